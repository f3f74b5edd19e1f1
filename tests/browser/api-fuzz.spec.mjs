// Every malformed call a script can make on the element's API — wrong lengths, NaN and
// infinities, huge counts, wrong types, strings, hostile text — rejects with a message, and
// the element stays usable: the same model, the same answers, no engine restart, no console
// error. On both backends.
import { test, expect } from './fixtures.mjs';
import { useLabPage } from './lab-page.mjs';

test.describe.configure({ mode: 'serial' });
const lab = useLabPage(test);

test('a request outside the protocol is refused by the page\'s client and by the worker', async () => {
  const out = await lab.run(async () => {
    const { engineModel } = await import('/www/engine-client.js');
    const { REQUESTS } = await import('/www/protocol.js');
    const model = engineModel();
    const client = await model.request('nope').then(() => 'accepted', (e) => e.message);
    model.terminate();
    // A worker of its own, spoken to without the client: it answers from the same table.
    const worker = new Worker('/www/engine-worker.js', { type: 'module' });
    const reply = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ id: 1, type: 'nope' });
    });
    worker.terminate();
    return { client, reply, types: Object.keys(REQUESTS).length };
  });
  expect(out.client).toMatch(/^unknown request type "nope": the engine serves open, close, info, /);
  expect(out.reply).toEqual({ id: 1, ok: false, error: out.client });
  expect(out.types).toBeGreaterThan(20);
});

test('malformed calls reject with a message and leave the element usable', async ({}, testInfo) => {
  const out = await lab.run(async () => {
    const el = document.querySelector('latent-lab');
    let restarts = 0;
    el.addEventListener('restart', () => restarts++);
    const { images } = await el.testImages(3);
    const before = Array.from(await el.reconstruct(images));
    const info = el.info;
    const f32 = (n, v = 0.5) => new Float32Array(n).fill(v);
    const withBad = (v) => {
      const x = f32(784);
      x[100] = v;
      return x;
    };
    const long = 'k'.repeat(50_000);
    const calls = {
      'reconstruct 783 values': () => el.reconstruct(f32(783)),
      'reconstruct NaN': () => el.reconstruct(withBad(NaN)),
      'reconstruct Infinity': () => el.reconstruct(withBad(Infinity)),
      'reconstruct -Infinity': () => el.reconstruct(withBad(-Infinity)),
      'reconstruct a string': () => el.reconstruct('not pixels'),
      'reconstruct a number': () => el.reconstruct(42),
      'reconstruct null': () => el.reconstruct(null),
      'reconstruct an object': () => el.reconstruct({ length: 784 }),
      'reconstruct a mixed array': () => el.reconstruct([...f32(783), 'x']),
      'reconstruct 10,001 rows': () => el.reconstruct(f32(784 * 10_001)),
      'reconstruct label 300': () => el.reconstruct(f32(784), [300]),
      'reconstruct label -1': () => el.reconstruct(f32(784), [-1]),
      'reconstruct label 1.5': () => el.reconstruct(f32(784), [1.5]),
      'reconstruct labels a string': () => el.reconstruct(f32(784), 'x'),
      'encode 785 values': () => el.encode(f32(785)),
      'encode NaN': () => el.encode(withBad(NaN)),
      'decode 3 values (latent 2)': () => el.decode(f32(3)),
      'decode NaN': () => el.decode(new Float32Array([0, NaN])),
      'decode 1.4 million rows': () => el.decode(f32(2_800_000)),
      'decode a string': () => el.decode('zz'),
      'sample -1': () => el.sample(-1, 0),
      'sample 1.5': () => el.sample(1.5, 0),
      'sample NaN': () => el.sample(NaN, 0),
      'sample a string': () => el.sample('abc', 0),
      'sample 1e12': () => el.sample(1e12, 0),
      'sample Infinity': () => el.sample(Infinity, 0),
      'sample 10,001': () => el.sample(10_001, 0),
      'sample seed -1': () => el.sample(2, -1),
      'sample seed 2^33': () => el.sample(2, 2 ** 33),
      'sample seed a string': () => el.sample(2, 'x'),
      'sample labels 10': () => el.sample(1, 0, [10]),
      'train 0 steps': () => el.train({ steps: 0 }),
      'train -5 steps': () => el.train({ steps: -5 }),
      'train 1.5 steps': () => el.train({ steps: 1.5 }),
      'train "x" steps': () => el.train({ steps: 'x' }),
      'train NaN steps': () => el.train({ steps: NaN }),
      'train without steps': () => el.train({}),
      'profile 0 steps': () => el.profile({ steps: 0 }),
      'profile 1.5 steps': () => el.profile({ steps: 1.5 }),
      'profile 1,001 steps': () => el.profile({ steps: 1001 }),
      'profile "x" steps': () => el.profile({ steps: 'x' }),
      'reset garbage': () => el.reset('garbage'),
      'reset with trailing garbage': () => el.reset('{"latent": 3} garbage'),
      'reset a list': () => el.reset('[]'),
      'reset null': () => el.reset(null),
      'reset kind 3': () => el.reset({ kind: 3 }),
      'reset latent 0': () => el.reset({ latent: 0 }),
      'reset a hostile kind': () => el.reset({ kind: long }),
      'reset a hostile field': () => el.reset({ [long]: 1 }),
      'reset a 1 MB spec': () => el.reset({ kind: 'k'.repeat(1_000_000) }),
      'reset 174 M parameters': () => el.reset({ hidden: [4096, 4096, 4096, 4096, 4096, 4096] }),
      'reset batch 0': () => el.reset({ batch_size: 0 }),
      'reset batch 5000': () => el.reset({ batch_size: 5000 }),
      'setSpec another kind': () => el.setSpec({ kind: 'ae' }),
      'setSpec beta -1': () => el.setSpec({ beta: -1 }),
      'setSpec beta a string': () => el.setSpec({ beta: 'x' }),
      'setSpec garbage': () => el.setSpec('garbage'),
      'loadWeights empty': () => el.loadWeights(new Uint8Array(0)),
      'loadWeights 3 bytes': () => el.loadWeights([1, 2, 3]),
      'loadWeights random': () => el.loadWeights(new Uint8Array(4096).map((_, i) => (i * 7919) % 251)),
      'corrupt NaN': () => el.corrupt(withBad(NaN)),
      'corrupt kind 5': () => el.corrupt(f32(784), { kind: 5 }),
      'corrupt kind pink': () => el.corrupt(f32(784), { kind: 'pink' }),
      'corrupt amount -1': () => el.corrupt(f32(784), { amount: -1 }),
      'corrupt amount a string': () => el.corrupt(f32(784), { amount: 'x' }),
      'corrupt seed -1': () => el.corrupt(f32(784), { seed: -1 }),
      'preprocess wrong size': () => el.preprocess(f32(10), 3, 3),
      'preprocess NaN ink': () => el.preprocess(new Float32Array([NaN]), 1, 1),
      'preprocess width a string': () => el.preprocess(f32(4), 'x', 2),
      'preprocess width 1e9': () => el.preprocess(f32(4), 1e9, 2),
      'testImages -1': () => el.testImages(-1),
      'testImages a string': () => el.testImages('x'),
      'testImages NaN': () => el.testImages(NaN),
      'firstLayer of a dense model': () => el.firstLayer(f32(784)),
      'firstLayer 5 values': () => el.firstLayer(f32(5)),
      'setCondition 11': () => el.setCondition(11),
      'setCondition a string': () => el.setCondition('x'),
      'switchKind nope': () => el.switchKind('nope'),
      'simulatePanic never': () => el.simulatePanic('never'),
    };
    const results = {};
    for (const [name, call] of Object.entries(calls)) {
      try {
        await call();
        results[name] = { ok: true };
      } catch (e) {
        results[name] = { ok: false, message: String(e?.message ?? e) };
      }
    }
    // Still the same model, giving the same answers, and it still trains.
    const after = Array.from(await el.reconstruct(images));
    const same = before.every((v, i) => v === after[i]);
    const trained = await el.train({ steps: 2 });
    return { results, same, spec: el.info.spec === info.spec, trained, restarts, step: info.step };
  });
  const accepted = Object.entries(out.results).filter(([, r]) => r.ok).map(([name]) => name);
  expect(accepted).toEqual([]);
  for (const [name, r] of Object.entries(out.results)) {
    expect(r.message.length, `${name}: ${r.message}`).toBeGreaterThan(10);
    expect(r.message.length, `${name}: ${r.message.slice(0, 200)}…`).toBeLessThan(600);
  }
  // A few messages say exactly what was wrong.
  const m = (name) => out.results[name].message;
  expect(m('reconstruct NaN')).toMatch(/pixels\[100\] \(row 0\) is NaN/);
  expect(m('decode 1.4 million rows')).toMatch(/1,400,000 rows; the limit is 10,000/);
  expect(m('sample a string')).toMatch(/n must be a whole number/);
  expect(m('reconstruct label 300')).toMatch(/labels\[0\] is 300/);
  expect(m('reset with trailing garbage')).toMatch(/trailing characters/);
  expect(m('reset kind 3')).toMatch(/`kind`: must be one of "ae", "vae"/);
  expect(m('reset a hostile kind')).toMatch(/\(50,002 characters\)/);
  expect(m('reset a 1 MB spec')).toMatch(/a spec is a JSON object of at most 65,536 bytes/);
  expect(m('reset 174 M parameters')).toMatch(/174,269,204 parameters/);
  expect(m('train "x" steps')).toMatch(/train: steps must be a whole number/);
  testInfo.annotations.push({ type: 'calls', description: `${Object.keys(out.results).length} malformed calls, each refused` });
  expect(out.same).toBe(true);
  expect(out.spec).toBe(true);
  expect(out.trained.reason).toBe('done');
  expect(out.trained.step).toBe(out.step + 2);
  expect(out.restarts).toBe(0);
  expect(lab.problems).toEqual([]);
});

test('a spec attribute that lies is refused with the reason, inside that element only', async () => {
  const texts = ['{"latent": 3} garbage', '[]', '{"kind": 3}'];
  const out = await lab.run(async (texts) => {
    const results = [];
    for (const text of texts) {
      const el = document.createElement('latent-lab');
      el.setAttribute('backend', 'cpu');
      el.setAttribute('spec', text);
      document.querySelector('main').append(el);
      el.scrollIntoView(); // a widget starts when it comes near the viewport
      const error = await el.ready.then(() => null, (e) => e.message);
      const shown = el.shadowRoot.querySelector('[part="messages"]').textContent;
      el.remove();
      results.push({ error, shown });
    }
    // The page's own element is unaffected.
    const main = document.querySelector('latent-lab');
    const { images } = await main.testImages(1);
    return { results, works: (await main.reconstruct(images)).length };
  }, texts);
  expect(out.results[0].error).toMatch(/trailing characters/);
  expect(out.results[1].error).toMatch(/must be a JSON object/);
  expect(out.results[2].error).toMatch(/`kind`: must be one of/);
  for (const r of out.results) expect(r.shown).toContain('The engine could not start: invalid model spec');
  expect(out.works).toBe(784);
  // The engine's refusal of its init is reported once, in the element (no console error).
  expect(lab.problems).toEqual([]);
});
