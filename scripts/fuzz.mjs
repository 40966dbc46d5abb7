// The long fuzz run: every property in test/fuzz with many more cases than `npm test` uses.
// CRATE_LENS_FUZZ_RUNS (cases per property) and CRATE_LENS_FUZZ_SEED still apply; a random
// seed each run finds more over time, and a failure prints the seed to replay it.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
env.CRATE_LENS_FUZZ_RUNS ||= '50000';
env.CRATE_LENS_FUZZ_SEED ||= String(Math.floor(Math.random() * 2 ** 31));
console.log(`fuzzing with ${env.CRATE_LENS_FUZZ_RUNS} cases per property, seed ${env.CRATE_LENS_FUZZ_SEED}`);
// `npm run test:fuzz -- image` narrows the run to test/fuzz/image*.
const only = process.argv.slice(2).map((name) => `test/fuzz/${name}`);
const result = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...(only.length ? only : ['test/fuzz/'])], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
