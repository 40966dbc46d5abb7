// The CRATE Lens inference worker: a child process of the daemon that holds the model's weights and
// backend and runs every forward pass and measure, so that a native crash (onnxruntime, Dawn) takes
// down only this process. It talks to the daemon over the IPC channel (server/worker/protocol.ts).
import { basename } from 'node:path';
import type { Backend } from '../backend/types';
import { CancelledError } from '../engine/analyze';
import { collectYoungGarbage } from './collectGarbage';
import { loadSpec } from './loader';
import { modelOperations } from './operations';
import type { DaemonToWorker, Inference, WorkerCall, WorkerErrorKind, WorkerToDaemon } from './protocol';
import { ForwardQueue } from './queue';

class SupersededError extends Error {}

interface Slot { generation: number; backend: Backend; ops: Inference; busy: number; retired: boolean }

let slot: Slot | undefined;
const queue = new ForwardQueue();
const controllers = new Map<number, AbortController>();

// Test-only: simulates a native crash on a given input (CRATE_LENS_TEST_ABORT_ON=<image file name>).
const abortOn = process.env.CRATE_LENS_TEST_ABORT_ON;

function send(message: WorkerToDaemon): void {
  // The daemon is gone when the channel is: nothing is left to answer.
  if (process.connected) process.send!(message);
}

const log = (message: string) => send({ type: 'log', message });

function release(s: Slot): void {
  if (s.retired && s.busy === 0) void s.backend.dispose().catch((e: Error) => log(`disposing the previous backend: ${e.message}`));
}

function retire(): void {
  if (!slot) return;
  const old = slot;
  slot = undefined;
  old.retired = true;
  release(old);
}

async function onSlot<T>(generation: number, work: (ops: Inference) => Promise<T>): Promise<T> {
  const s = slot;
  if (!s || s.generation !== generation) throw new SupersededError(`model ${generation} is no longer loaded`);
  s.busy++;
  try {
    return await work(s.ops);
  } finally {
    s.busy--;
    release(s);
  }
}

async function run(call: WorkerCall, signal: AbortSignal): Promise<WorkerToDaemon> {
  const { id } = call;
  switch (call.method) {
    case 'load': {
      // The previous model goes once its running passes finish; only one model is kept.
      retire();
      const loaded = await loadSpec(call.params.model, log);
      retire();
      slot = { generation: call.generation, backend: loaded.backend, ops: modelOperations(loaded.dictionaries, loaded.backend, queue), busy: 0, retired: false };
      return { type: 'result', id, method: 'load', result: loaded.info };
    }
    case 'analyseImage':
      if (abortOn && basename(call.params.path) === abortOn) process.abort();
      return { type: 'result', id, method: call.method, result: await onSlot(call.generation, (ops) => ops.analyseImage(call.params.path, call.params.bytes, signal)) };
    case 'analyzeImages':
      if (abortOn && call.params.paths.some((p) => basename(p) === abortOn)) process.abort();
      return { type: 'result', id, method: call.method, result: await onSlot(call.generation, (ops) => ops.analyzeImages(call.params.paths, { topK: call.params.topK }, signal)) };
    case 'rollouts':
      return { type: 'result', id, method: call.method, result: await onSlot(call.generation, (ops) => ops.rollouts(call.params.bytes, call.params.fusion, call.params.discard, signal)) };
    case 'dictionaryStats':
      return { type: 'result', id, method: call.method, result: await onSlot(call.generation, (ops) => ops.dictionaryStats(signal)) };
    default:
      throw new Error(`unknown worker method ${String((call as { method?: unknown }).method)}`);
  }
}

async function handle(call: WorkerCall): Promise<void> {
  const controller = new AbortController();
  controllers.set(call.id, controller);
  try {
    send(await run(call, controller.signal));
  } catch (e) {
    const kind: WorkerErrorKind = e instanceof CancelledError || controller.signal.aborted ? 'cancelled' : e instanceof SupersededError ? 'superseded' : 'failed';
    send({ type: 'error', id: call.id, kind, message: (e as Error).message ?? String(e) });
  } finally {
    controllers.delete(call.id);
    if (controllers.size === 0) scheduleIdleCollection();
  }
}

let idleCollection: NodeJS.Immediate | undefined;

/** Frees the last passes' outputs once nothing is running (not between a batch's passes). */
function scheduleIdleCollection(): void {
  idleCollection ??= setImmediate(() => {
    idleCollection = undefined;
    if (controllers.size === 0) collectYoungGarbage();
  });
}

process.on('message', (message: DaemonToWorker) => {
  if (message.type === 'cancel') controllers.get(message.id)?.abort();
  else void handle(message);
});

// The daemon exited (or was killed): no one is left to serve.
process.on('disconnect', () => process.exit(0));
