// A static server of the repository on a free loopback port, for the scripts that drive
// Chromium outside Playwright's test runner (bench-browser.mjs, screenshots.mjs).
import { spawn } from 'node:child_process';
import net from 'node:net';

/** Chromium flags that keep a headless run quiet: no sandbox, no background network. */
export const QUIET_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Serves `root` with Python's http.server; resolves, once it answers, to {base, close}. */
export async function serveStatic(root) {
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port)], {
    cwd: root,
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  // Wait until the server answers (no fixed sleep).
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/www/latent-lab.js`)).ok) break;
    } catch {}
    if (i > 200) {
      server.kill();
      throw new Error('the static server did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, close: () => server.kill() };
}
