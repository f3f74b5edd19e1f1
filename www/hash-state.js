// Settings in the URL hash, for embed.html and the full page: `#kind=dae&views=denoise,pad`
// sets those attributes of the page's <latent-lab> (the keys of util/settings.js), and, with
// `follow`, the hash follows what the reader changes (kind, live settings), so a link
// reopens what was set up — as TensorFlow Playground does. Values are only ever attribute
// values: the element validates them and shows a message for any it cannot use.

import { KEYS, hashGetter, toHash } from './util/settings.js';

/** Sets the element's attributes from the hash (every key: an absent key removes its attribute). */
export function applyHash(el, hash = location.hash) {
  const get = hashGetter(hash);
  for (const key of KEYS) {
    const value = get(key);
    if (value === null) el.removeAttribute(key);
    else if (el.getAttribute(key) !== value) el.setAttribute(key, value);
  }
}

/**
 * Keeps the element in step with the page's hash: the hash is applied now and whenever it
 * changes; with `follow`, the reader's changes are written back (history.replaceState, no
 * new history entries). The Share link of the element then points at this page.
 */
export function hashState(el, { follow = true } = {}) {
  applyHash(el);
  el.linkBase = location.href.split('#')[0];
  let written = location.hash.replace(/^#/, '');
  addEventListener('hashchange', () => {
    if (location.hash.replace(/^#/, '') !== written) applyHash(el);
  });
  if (!follow) return;
  const write = () => {
    const hash = toHash(el.share().pairs);
    if (hash === written) return;
    written = hash;
    history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
  };
  el.addEventListener('state', (e) => ['model', 'spec'].includes(e.detail?.reason) && write());
}

/**
 * In a frame: posts the page's content height to the parent whenever it changes
 * ({type: 'latent-lab:height', height}), for embed-resize.js (or five lines of the parent's
 * own) to size the iframe. Only a number leaves the frame.
 */
export function reportHeight() {
  if (window.parent === window) return;
  let last = -1;
  const send = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: 'latent-lab:height', height }, '*');
  };
  new ResizeObserver(send).observe(document.documentElement);
  send();
}
