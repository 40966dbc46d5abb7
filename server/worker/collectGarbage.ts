// Garbage collection on demand: after a load frees a checkpoint-sized buffer, and when the worker
// goes idle with a forward pass's outputs (megabytes of external memory) just dropped.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type: 'major' | 'minor' }) => void;
let gc: Gc | null | undefined;

/** The collector, without a command-line flag (which the editor's own Node may not pass on). */
function collector(): Gc | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** A full collection. Only memory is at stake if it is unavailable: the collector runs on its own later. */
export function collectGarbage(): void {
  collector()?.();
}

/**
 * A young-generation collection (about a millisecond): a pass's output arrays are young, and V8 would
 * otherwise let tens of megabytes of them pile up before it looks.
 */
export function collectYoungGarbage(): void {
  collector()?.({ type: 'minor' });
}
