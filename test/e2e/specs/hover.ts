// Hovering an image path shows the input, the attention heatmap, predictions and per-layer measures.
import type { Spec } from '../harness';
import { hoverImage, waitReady } from './common';

export const hoverMarkdown: Spec = {
  name: 'hover-markdown',
  async run(t) {
    await waitReady(t);
    await hoverImage(t, 'README.md', '0000-ankle-boot.png', 'doc-hover-markdown');
  },
};

export const hoverPython: Spec = {
  name: 'hover-python',
  async run(t) {
    await waitReady(t);
    await hoverImage(t, 'inspect_samples.py', '0002-trouser.png', 'doc-hover-python');
  },
};
