// Finds the model state dict inside whatever object a checkpoint file holds:
// a bare state dict, or one nested in a training checkpoint.

import { CheckpointError, printable } from './errors';
import { typeName, type PyValue } from './values';

export interface FoundStateDict<T> {
  entries: Map<string, T>;
  container: string;
}

/** Keys training scripts commonly nest the state dict under, in order of preference. */
const NESTED_KEYS = ['state_dict', 'model', 'model_state_dict', 'module'];
const PREFIX = 'module.';

export function findStateDict<T>(root: unknown, isTensor: (value: unknown) => value is T): FoundStateDict<T> {
  if (!(root instanceof Map)) {
    throw new CheckpointError(`no state dict found: the checkpoint holds a ${typeName(root as PyValue)}, not a dict of tensors`);
  }
  let chosen: Map<unknown, unknown> | undefined;
  let where = '';
  if (root.size > 0 && [...root.values()].every(isTensor)) {
    chosen = root;
    where = 'bare state dict';
  } else {
    for (const key of NESTED_KEYS) {
      const value = root.get(key);
      if (value instanceof Map && [...value.values()].some(isTensor)) {
        chosen = value;
        where = `{'${key}': ...}`;
        break;
      }
    }
  }
  if (!chosen) throw new CheckpointError(`no state dict found: ${describeKeys(root)}`);

  const entries = new Map<string, T>();
  for (const [key, value] of chosen) {
    // Non-tensor values (and non-string keys) inside a state dict carry no weights.
    if (typeof key === 'string' && isTensor(value)) entries.set(key, value);
  }
  if (entries.size === 0) throw new CheckpointError(`no state dict found: ${where} holds no named tensors`);
  if ([...entries.keys()].every((key) => key.startsWith(PREFIX))) {
    return {
      entries: new Map([...entries].map(([key, value]) => [key.slice(PREFIX.length), value])),
      container: `${where} with '${PREFIX}' prefix stripped`,
    };
  }
  return { entries, container: where };
}

function describeKeys(root: Map<unknown, unknown>): string {
  if (root.size === 0) return 'the checkpoint holds an empty dict';
  const shown = [...root.keys()].slice(0, 20).map((key) => (typeof key === 'string' ? `'${printable(key, 60)}'` : printable(String(typeof key === 'object' ? typeName(key as PyValue) : key), 60)));
  const more = root.size > 20 ? `, ... (${root.size} keys)` : '';
  return `top-level keys are ${shown.join(', ')}${more}; expected a dict of tensors or one under ${NESTED_KEYS.map((k) => `'${k}'`).join(', ')}`;
}
