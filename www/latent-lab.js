// Registers <latent-lab>. Import this module to use the element:
//   <script type="module" src="www/latent-lab.js"></script>  <latent-lab></latent-lab>
// The class lives in lab-element.js, so a page can register it under another name.

import { LatentLabElement } from './lab-element.js';

if (!customElements.get('latent-lab')) {
  customElements.define('latent-lab', LatentLabElement);
}

export { LatentLabElement };
