// embed.html: one widget on its own page, configured by the URL hash
// (embed.html#kind=dae&views=denoise,pad&controls=minimal), for iframes in an LMS and for
// links. The hash's attributes reach the element before its engine starts (near the viewport).
import './latent-lab.js';
import { hashState, reportHeight } from './hash-state.js';

const el = document.querySelector('latent-lab');
// In a frame the hash is the parent's to set; on its own page it follows the reader.
hashState(el, { follow: window.parent === window });
reportHeight();
