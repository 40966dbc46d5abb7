// Seeded mutations of the good fixtures: a reader may accept a mutated file or
// refuse it with a CheckpointError, but nothing else may escape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, readCheckpointBytes } from '../../server/checkpoint';
import { ZipArchive } from '../../server/checkpoint/zip';
import { fixture, makeZip } from '../fixtures/loader/build';

let seed = 2024;
function next(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed >>> 8;
}

function mutate(source: Uint8Array, from = 0, to = source.length): Uint8Array {
  const kind = next() % 4;
  const at = from + (next() % Math.max(1, to - from));
  if (kind === 0) return source.subarray(0, at); // truncate
  const bytes = new Uint8Array(source);
  if (kind === 1) bytes[at] ^= 1 << (next() % 8); // flip a bit
  if (kind === 2) bytes[at] = [0x00, 0xff, 0x7f, 0x80][next() % 4]; // extreme byte
  if (kind === 3) for (let i = 0; i < 4 && at + i < bytes.length; i++) bytes[at + i] = 0xff; // saturate a length field
  return bytes;
}

function survives(bytes: Uint8Array, label: string): void {
  try {
    readCheckpointBytes(bytes, 'fuzz');
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `${label}: ${error instanceof Error ? error.stack : String(error)}`);
    assert.equal(error.message.split('\n').length, 1, `${label}: ${error.message}`);
    // A cause means a JS error was caught by the last-resort net rather than by an explicit check.
    assert.equal(error.cause, undefined, `${label}: unchecked failure: ${error.message}`);
  }
}

for (const name of ['bare.pth', 'training.pth.tar', 'protocol4.pth', 'model.safetensors']) {
  test(`mutated ${name} never throws anything but CheckpointError`, () => {
    const original = fixture(name);
    for (let i = 0; i < 400; i++) survives(mutate(original), `${name} mutation ${i}`);
  });
}

for (const name of ['bare.pth', 'training.pth.tar', 'protocol4.pth']) {
  test(`${name} with a mutated data.pkl (valid checksums) never throws anything but CheckpointError`, () => {
    const zip = ZipArchive.open(fixture(name));
    const entries = [...zip.entries.keys()].map((entry) => ({ name: entry, data: zip.read(entry) }));
    const pickleIndex = entries.findIndex((e) => e.name.endsWith('/data.pkl'));
    for (let i = 0; i < 400; i++) {
      const copy = entries.slice();
      copy[pickleIndex] = { ...copy[pickleIndex], data: mutate(entries[pickleIndex].data) };
      survives(makeZip(copy), `${name} pickle mutation ${i}`);
    }
  });
}
