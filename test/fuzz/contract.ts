// The contract every reader keeps for any input: return a well-formed result, or throw the
// project's own error type with one short line. A `cause` on that error means the reader's
// last-resort net caught a JS error (RangeError, TypeError, ...) that no explicit check
// foresaw, so it counts as a failure too.

import type { Checkpoint } from '../../server/checkpoint';
import type { Raster } from '../../server/image';

type ErrorClass = abstract new (...args: never[]) => Error;

const MAX_MESSAGE = 2000;

export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return `a non-error value ${String(error)}`;
  const where = (error.stack ?? '').split('\n').slice(1, 6).join('\n');
  return `${error.name}: ${error.message}\n${where}`;
}

/** Sees the outcome of every read: 'ok' or the error message. For measuring what generators reach. */
let observer: ((what: string, outcome: string) => void) | undefined;

export function observeOutcomes(listener: ((what: string, outcome: string) => void) | undefined): void {
  observer = listener;
}

/** Runs `read`; checks its result with `validate` or its error against `expected`. */
export function typedOrValid<T>(what: string, read: () => T, expected: ErrorClass, validate: (value: T) => void): void {
  let value: T;
  try {
    value = read();
  } catch (error) {
    if (error instanceof ContractError) throw error;
    observer?.(what, error instanceof Error ? error.message : String(error));
    if (!(error instanceof expected)) throw new ContractError(`${what} threw ${describe(error)}\ninstead of a ${expected.name}`);
    const { message } = error;
    if (message.length === 0) throw new ContractError(`${what}: ${expected.name} with an empty message`);
    if (/[\r\n]/.test(message)) throw new ContractError(`${what}: message spans several lines: ${JSON.stringify(message.slice(0, 300))}`);
    if (message.length > MAX_MESSAGE) throw new ContractError(`${what}: message of ${message.length} characters`);
    if (error.cause !== undefined) {
      throw new ContractError(`${what}: unchecked failure caught by the last-resort net: ${message}\ncaused by ${describe(error.cause)}`);
    }
    return;
  }
  observer?.(what, 'ok');
  validate(value);
}

export function assertThat(ok: boolean, message: string): asserts ok {
  if (!ok) throw new ContractError(message);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function validCheckpoint(c: Checkpoint): void {
  assertThat(c.format === 'pytorch-zip' || c.format === 'safetensors', `unknown format ${String(c.format)}`);
  assertThat(c.tensors instanceof Map && c.tensors.size > 0, 'a checkpoint without tensors was accepted');
  for (const [name, t] of c.tensors) {
    assertThat(typeof name === 'string', 'a non-string tensor name');
    assertThat(t.data instanceof Float32Array, `${name}: data is not a Float32Array`);
    assertThat(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name}: bad shape [${t.shape.join(', ')}]`);
    assertThat(t.data.length === numel(t.shape), `${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
}

export function validRaster(img: Raster, maxPixels: number): void {
  const { width, height, channels, data } = img;
  assertThat(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0, `bad size ${width}x${height}`);
  assertThat(width * height <= maxPixels, `${width}x${height} decoded despite a limit of ${maxPixels} pixels`);
  assertThat([1, 2, 3, 4].includes(channels), `bad channel count ${channels}`);
  assertThat(data instanceof Uint8Array && data.length === width * height * channels, `${data.length} bytes for ${width}x${height}x${channels}`);
}
