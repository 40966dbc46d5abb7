// Properties that misbehave on purpose, for harness.test.ts: the harness must stop a reader
// that never returns and report its input, however the reader is stuck.

import fc from 'fast-check';
import { fuzzCase } from './mutate';
import type { FuzzProperty } from './properties';

let seen = 0;

export const MISBEHAVING: Record<string, FuzzProperty> = {
  'returns at once': { runs: 1, arbitrary: () => fc.constant(fuzzCase(new Uint8Array(0), 'nothing')), check: () => undefined },
  'never returns on its third case': {
    runs: 10,
    arbitrary: () => fc.nat({ max: 255 }).map((n) => fuzzCase(Uint8Array.of(n, 1, 2, 3), `byte ${n}`)),
    check: () => {
      if (++seen === 3) for (;;);
    },
  },
};
