// The full page (index.html): the lab keeps its configuration in the URL hash, so a link
// reopens what was set up (index.html#kind=dae&noise-amount=0.3). The element defines
// itself first; the hash's attributes reach it before its engine starts (it starts near the
// viewport, after this module has run).
import './latent-lab.js';
import { hashState } from './hash-state.js';

hashState(document.querySelector('latent-lab'));
