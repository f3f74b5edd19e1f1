// The Share panel: the current configuration as three snippets — the tag for a course
// page, an iframe for an LMS that strips scripts, and a link — each with a copy button.
// The snippets are text in read-only text areas (never markup in this page).

import { h } from './canvas.js';

const SNIPPETS = [
  ['tag', 'Tag', 'For a page that may load scripts: the module once per page, then one tag per widget.'],
  ['iframe', 'Iframe', 'For an LMS that strips scripts (Canvas, Moodle with framing allowed).'],
  ['link', 'Link', 'Opens this configuration on its own page.'],
];

export class SharePanel {
  #areas = {};
  #status = {};
  #snippets;

  /** `root`: the panel; `button`: the Share button that opens it; `snippets()`: {tag, iframe, link}. */
  constructor(root, button, snippets) {
    this.root = root;
    this.button = button;
    this.#snippets = snippets;
    const close = h('button', { type: 'button' }, 'Close');
    close.addEventListener('click', () => this.toggle(false));
    root.append(
      h('div', { class: 'snippet-head' }, h('h2', {}, 'Share this widget'), close),
      h('p', { class: 'explain' }, 'Paste one of these where you want the widget; it opens with the model, views and settings it has now.'),
    );
    for (const [key, label, hint] of SNIPPETS) {
      const id = `ll-share-${key}-${Math.random().toString(36).slice(2, 8)}`;
      const area = h('textarea', { id, readonly: true, rows: key === 'link' ? 2 : 3, spellcheck: 'false', 'data-snippet': key });
      const copy = h('button', { type: 'button', 'data-copy': key }, 'Copy');
      const status = h('span', { class: 'copied', 'aria-live': 'polite' });
      copy.addEventListener('click', () => this.#copy(key));
      this.#areas[key] = area;
      this.#status[key] = status;
      root.append(
        h(
          'div',
          { class: 'snippet' },
          h('div', { class: 'snippet-head' }, h('label', { for: id }, label), h('span', {}, status, ' ', copy)),
          h('small', { class: 'hint' }, hint),
          area,
        ),
      );
    }
    button.addEventListener('click', () => this.toggle(root.hidden));
  }

  /** Opens (with fresh snippets) or closes the panel. */
  toggle(open) {
    if (open) this.refresh();
    this.root.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
  }

  refresh() {
    const snippets = this.#snippets();
    for (const [key] of SNIPPETS) {
      this.#areas[key].value = snippets[key];
      this.#status[key].textContent = '';
    }
  }

  async #copy(key) {
    const area = this.#areas[key];
    try {
      await navigator.clipboard.writeText(area.value);
      this.#status[key].textContent = 'Copied';
    } catch {
      // No clipboard permission (an iframe, an old browser): select it for Ctrl+C.
      area.focus();
      area.select();
      this.#status[key].textContent = 'Selected: press Ctrl+C';
    }
  }
}
