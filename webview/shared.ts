// What the two tabs share: the layers chosen, the model's depth, saved choices, and the card frame
// (a titled section with a PNG export button).
import type { SavedState } from './vscodeApi';

export interface Shared {
  readonly a: number;
  readonly b: number;
  readonly depth: number;
  readonly saved: Partial<SavedState>;
  /** Remembers choices across reloads of the page. */
  update(patch: Partial<SavedState>): void;
  /** A section with a heading, optional controls and a PNG export button. */
  card(id: string, title: string, body: Node[], actions?: Node[]): HTMLElement;
}
