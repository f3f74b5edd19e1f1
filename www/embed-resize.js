// For a page that frames embed.html: sizes each Latent Lab iframe to its content. Load it
// once: <script type="module" src=".../embed-resize.js"></script>. It trusts only a number
// (the frame's height), and only from a frame on this page. The same in five lines:
//   addEventListener('message', (e) => {
//     if (e.data?.type !== 'latent-lab:height') return;
//     for (const f of document.querySelectorAll('iframe'))
//       if (f.contentWindow === e.source) f.style.height = `${e.data.height}px`;
//   });
addEventListener('message', (e) => {
  if (e.data?.type !== 'latent-lab:height' || !Number.isFinite(e.data.height)) return;
  for (const frame of document.querySelectorAll('iframe')) {
    if (frame.contentWindow === e.source) frame.style.height = `${Math.max(0, Math.min(e.data.height, 20000))}px`;
  }
});
