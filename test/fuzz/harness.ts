// Registers fuzz properties as node:test tests that run on a worker thread. The readers are
// synchronous, so a hang would freeze the thread that runs them and with it any timer there
// (node:test's own timeout included); with the work on a worker, the time limit can fire,
// stop the worker and name the input it was stuck on.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { readConfig, timeoutMs } from './config';
import { SHARED_HEADER_BYTES, type FuzzReply, type FuzzRequest, type PropertySource } from './messages';
import type { FuzzProperty } from './properties';

/** Where failing and hanging inputs are written, to replay them or add them to the hostile corpus. */
export const OUTPUT = join(__dirname, '..', '..', 'test-output', 'fuzz');
const MAX_RECORDED = 4 << 20;

export class FuzzWorker {
  private readonly shared = new SharedArrayBuffer(SHARED_HEADER_BYTES + MAX_RECORDED);
  private readonly worker: Worker;
  private nextId = 0;
  private pending: { resolve: (r: FuzzReply) => void; reject: (e: Error) => void } | undefined;
  dead = false;

  constructor() {
    // tsx's require hook must be installed inside the worker too.
    const script = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'worker.ts'))});`;
    this.worker = new Worker(script, {
      eval: true,
      workerData: { shared: this.shared },
      // A reader that builds JS objects without bound fails the case here instead of taking the
      // machine. The stack matches a main thread's (workers get 4 MB), where the readers run in
      // the daemon and CLI, so a deep recursion or a spread of a long array fails here as there.
      resourceLimits: { maxOldGenerationSizeMb: 1024, stackSizeMb: 0.95 },
    });
    this.worker.on('message', (reply: FuzzReply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (error) => this.die(`fuzz worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.die(`fuzz worker exited with code ${code}`));
  }

  private die(why: string): void {
    // After terminate() the caller has already reported (and saved) the input.
    const where = this.dead ? '' : this.inFlight();
    this.dead = true;
    this.settle((p) => p.reject(new Error(`${why}${where}`)));
  }

  private settle(action: (p: NonNullable<FuzzWorker['pending']>) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) action(p);
  }

  run(request: Omit<FuzzRequest, 'id'>): Promise<FuzzReply> {
    if (this.pending) throw new Error('one property at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ ...request, id: this.nextId++ });
    });
  }

  /** The input the worker is reading, saved to a file; for messages about a dead or stuck worker. */
  inFlight(): string {
    const header = new Int32Array(this.shared, 0, 2);
    const length = Atomics.load(header, 0);
    const cases = Atomics.load(header, 1);
    if (cases === 0) return ' before its first case';
    const file = save(`in-flight-${Date.now()}`, new Uint8Array(this.shared, SHARED_HEADER_BYTES, length).slice());
    return ` during case ${cases}; its input (${length} bytes) is in ${file}`;
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.worker.terminate();
  }
}

function save(name: string, bytes: Uint8Array): string {
  mkdirSync(OUTPUT, { recursive: true });
  const file = join(OUTPUT, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.bin`);
  writeFileSync(file, bytes);
  return file;
}

/** Runs one property; rejects (and stops the worker) when it does not finish within `limitMs`. */
export async function runProperty(worker: FuzzWorker, request: Omit<FuzzRequest, 'id'>, limitMs: number): Promise<FuzzReply> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Stopping the worker interrupts even a loop that never yields.
      const where = worker.inFlight();
      void worker.terminate();
      reject(new Error(`'${request.name}' did not finish within ${limitMs / 1000} s (seed ${request.seed}): a reader hung${where}`));
    }, limitMs);
  });
  try {
    return await Promise.race([worker.run(request), hung]);
  } finally {
    clearTimeout(timer);
  }
}

function load(source: PropertySource): Record<string, FuzzProperty> {
  return (require(source.module) as Record<string, Record<string, FuzzProperty>>)[source.exportName];
}

/**
 * One test per property of `source`, run one after another on a shared worker, which loads
 * the same module. `testFile` is the calling test file, for the replay hint.
 */
export function fuzzProperties(title: string, source: PropertySource, testFile: string): void {
  const config = readConfig();
  let worker: FuzzWorker | undefined;

  describe(title, () => {
    after(() => worker?.terminate());

    for (const [name, property] of Object.entries(load(source))) {
      const runs = config.runs ?? property.runs;
      const limit = timeoutMs(config, runs);
      test(`${name} (${runs} cases)`, { timeout: limit + 10_000 }, async () => {
        if (!worker || worker.dead) worker = new FuzzWorker();
        const reply = await runProperty(worker, { source, name, runs, seed: config.seed, path: config.path }, limit);
        if (!reply.failed) return;
        const file = reply.counterexample ? save(name, reply.counterexample) : undefined;
        const replay = `CRATE_LENS_FUZZ_SEED=${config.seed} CRATE_LENS_FUZZ_PATH=<path above> node --import tsx --test --test-name-pattern=${JSON.stringify(name)} ${relative(process.cwd(), testFile)}`;
        assert.fail(`${reply.report}\n\nCounterexample: ${reply.counterexampleLabel ?? '?'}${file ? `\nIts bytes: ${file}` : ''}\nReplay: ${replay}`);
      });
    }
  });
}
