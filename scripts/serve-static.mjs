// Static servers on free loopback ports, for the scripts that drive Chromium outside
// Playwright's test runner (bench-browser.mjs, screenshots.mjs) and for tests that need a
// second origin or their own headers (dist.spec.mjs).

/** Chromium flags that keep a headless run quiet: no sandbox, no background network. */
export const QUIET_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Serves `root` (the repository) on a free loopback port; resolves to {base, close}. */
export async function serveStatic(root) {
  return serveFiles({ mounts: { '/': root } });
}

const TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * A static server in this process on a free loopback port, for tests that need more than
 * one origin or their own headers. `mounts` maps URL prefixes to folders ({'/lab/v1/':
 * 'dist'}), `pages` paths to HTML text, `headers` is added to every response (e.g.
 * Access-Control-Allow-Origin, as a CDN sends it). Resolves to {base, close, requests}:
 * `requests` lists the paths served, in order.
 */
export async function serveFiles({ mounts = {}, pages = {}, headers = {} } = {}) {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const { extname, join, normalize, sep } = await import('node:path');
  const requests = [];
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/') && pages[path] === undefined) path += 'index.html';
    requests.push(path);
    const send = (status, body, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    if (pages[path] !== undefined) return send(200, pages[path], TYPES[extname(path)] ?? TYPES['.html']);
    const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
    if (!prefix) return send(404, 'not found');
    const rest = normalize(path.slice(prefix.length));
    if (rest.startsWith('..') || rest.includes(`${sep}..`)) return send(403, 'forbidden');
    try {
      send(200, await readFile(join(mounts[prefix], rest)), TYPES[extname(rest)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}
