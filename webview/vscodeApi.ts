// The page's only channel to the extension: typed messages out, and the state kept across reloads.
import type { LayerPanelToExtension } from '../server/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: LayerPanelToExtension): void {
  api.postMessage(message);
}

/** What the page remembers while it is hidden or reloaded (choices, not data: the extension resends that). */
export interface SavedState {
  tab: 'image' | 'dataset';
  a: number;
  b: number;
  fusion: 'mean' | 'max' | 'min';
  discard: number;
  headMasks: boolean;
  source: string;
  sortMeasure: number;
  sortLayer: 'a' | 'b';
  sortDescending: boolean;
}

export function loadState(): Partial<SavedState> {
  const s = api.getState();
  return typeof s === 'object' && s !== null ? (s as Partial<SavedState>) : {};
}

export function saveState(state: SavedState): void {
  api.setState(state);
}
