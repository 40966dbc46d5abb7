// Shows what each property's inputs lead to: how many are accepted and which refusals they meet,
// so a generator that only ever produces garbage stops at the first check shows up.
//
//   node --import tsx test/fuzz/outcomes.ts [name filter] [cases, default 1000] [seed]

import fc from 'fast-check';
import { observeOutcomes } from './contract';
import { PROPERTIES } from './properties';

const [filter = '', casesArg = '1000', seedArg = '1'] = process.argv.slice(2);
const cases = Number(casesArg);
const seed = Number(seedArg);

for (const [name, property] of Object.entries(PROPERTIES)) {
  if (!name.includes(filter)) continue;
  const tally = new Map<string, number>();
  const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
  // Numbers vary from input to input; without them the same refusal counts once.
  observeOutcomes((what, outcome) => count(`${what}: ${outcome.replace(/\d+/g, 'N').slice(0, 120)}`));
  for (const c of fc.sample(property.arbitrary(), { numRuns: cases, seed })) {
    try {
      property.check(c.bytes);
    } catch (error) {
      count(`CONTRACT BROKEN: ${(error as Error).message.split('\n')[0].replace(/\d+/g, 'N').slice(0, 160)}`);
    }
  }
  observeOutcomes(undefined);
  console.log(`\n${name} (${cases} cases)`);
  for (const [key, n] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${String(n).padStart(6)}  ${key}`);
}
