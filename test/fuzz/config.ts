// How much and how the property-based fuzz tests run. The defaults keep `npm test` short and
// reproducible; the environment variables turn a run into a long one or replay a failure.
//
//   CRATE_LENS_FUZZ_RUNS=200000   cases per property (default: each property's own, a few hundred)
//   CRATE_LENS_FUZZ_SEED=1234     fast-check seed (default: fixed, so CI runs are reproducible)
//   CRATE_LENS_FUZZ_PATH=3:1:0    replay one shrunk counterexample (with its seed; pick the test
//                                 with --test-name-pattern)
//   CRATE_LENS_FUZZ_TIMEOUT_S=600 per-property limit after which the run counts as hung
//
// `node --import tsx test/fuzz/outcomes.ts [filter]` shows which checks a property's inputs reach.

export const DEFAULT_SEED = 0x5eed_c8a7;

function integerEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got '${raw}'`);
  return value;
}

export interface FuzzConfig {
  seed: number;
  /** Cases per property when set; otherwise each property's default. */
  runs: number | undefined;
  path: string | undefined;
  timeoutS: number | undefined;
}

export function readConfig(): FuzzConfig {
  const runs = integerEnv('CRATE_LENS_FUZZ_RUNS');
  if (runs !== undefined && runs < 1) throw new Error('CRATE_LENS_FUZZ_RUNS must be at least 1');
  const timeoutS = integerEnv('CRATE_LENS_FUZZ_TIMEOUT_S');
  if (timeoutS !== undefined && timeoutS < 1) throw new Error('CRATE_LENS_FUZZ_TIMEOUT_S must be at least 1');
  // fast-check seeds are 32-bit; wrap rather than refuse so any integer reproduces something.
  const seed = (integerEnv('CRATE_LENS_FUZZ_SEED') ?? DEFAULT_SEED) | 0;
  const path = process.env.CRATE_LENS_FUZZ_PATH?.trim() || undefined;
  return { seed, runs, path, timeoutS };
}

/**
 * Time after which a property counts as hung. Deliberately loose (a case takes milliseconds):
 * it only has to catch a reader that never returns, not measure speed.
 */
export function timeoutMs(config: FuzzConfig, runs: number): number {
  if (config.timeoutS !== undefined) return config.timeoutS * 1000;
  return Math.max(180_000, runs * 50);
}
