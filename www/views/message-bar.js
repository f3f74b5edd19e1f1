// Dismissible messages (errors and notices) above the cards.

import { h } from './canvas.js';

const MAX_MESSAGES = 4;

export class MessageBar {
  /** `root`: the element with part="messages". */
  constructor(root) {
    this.root = root;
  }

  /** Shows `text`; `kind` is 'error' or 'info'. A repeated text is not shown twice. */
  show(text, kind = 'error') {
    for (const m of this.root.children) {
      if (m.dataset.text === text) return m;
    }
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss message' }, '×');
    const item = h(
      'div',
      { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('span', { class: 'text' }, text),
      close,
    );
    item.dataset.text = text;
    close.addEventListener('click', () => item.remove());
    this.root.append(item);
    while (this.root.children.length > MAX_MESSAGES) this.root.firstElementChild.remove();
    return item;
  }

  /** Removes the message with exactly this text, if shown. */
  remove(text) {
    for (const m of [...this.root.children]) if (m.dataset.text === text) m.remove();
  }

  /** The texts shown now, of one kind or all. */
  texts(kind) {
    return [...this.root.children].filter((m) => !kind || m.classList.contains(kind)).map((m) => m.dataset.text);
  }

  clear(kind) {
    for (const m of [...this.root.children]) {
      if (!kind || m.classList.contains(kind)) m.remove();
    }
  }
}
