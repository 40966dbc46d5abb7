// Runs fuzz properties on a worker thread. A reader that never returns blocks only this thread:
// the test thread stays free to notice, stop the worker and report the input it was given.

import fc from 'fast-check';
import { parentPort, workerData } from 'node:worker_threads';
import { SHARED_HEADER_BYTES, type FuzzReply, type FuzzRequest } from './messages';
import type { FuzzProperty } from './properties';

const shared = (workerData as { shared: SharedArrayBuffer }).shared;
const header = new Int32Array(shared, 0, 2);
const current = new Uint8Array(shared, SHARED_HEADER_BYTES);

/** Publishes the input about to be read, so it survives this thread being stopped mid-case. */
function record(bytes: Uint8Array): void {
  const n = Math.min(bytes.length, current.length);
  current.set(bytes.subarray(0, n));
  Atomics.store(header, 0, n);
  Atomics.add(header, 1, 1);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`;
}

parentPort?.on('message', (request: FuzzRequest) => {
  const properties = (require(request.source.module) as Record<string, Record<string, FuzzProperty>>)[request.source.exportName];
  const property = properties[request.name];
  Atomics.store(header, 1, 0); // cases are counted per property
  const details = fc.check(
    fc.property(property.arbitrary(), (c) => {
      record(c.bytes);
      property.check(c.bytes);
    }),
    { seed: request.seed, numRuns: request.runs, path: request.path },
  );
  const example = details.counterexample?.[0];
  const reply: FuzzReply = {
    id: request.id,
    failed: details.failed,
    numRuns: details.numRuns,
    report: details.failed ? `${fc.defaultReportMessage(details)}\n\n${errorText(details.errorInstance)}` : undefined,
    counterexample: example?.bytes,
    counterexampleLabel: example?.label,
  };
  parentPort?.postMessage(reply);
});
