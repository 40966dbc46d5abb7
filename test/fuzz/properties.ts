// Every fuzzed property by name: how its inputs are made, how many cases a normal run takes,
// and the contract checked on each input. The worker runs them; the test files list them.

import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, readCheckpointBytes } from '../../server/checkpoint';
import { unpickle } from '../../server/checkpoint/pickle';
import { readSafetensors } from '../../server/checkpoint/safetensors';
import { StorageRef, type PyValue } from '../../server/checkpoint/values';
import { ZipArchive } from '../../server/checkpoint/zip';
import { ImageError, decodeImage } from '../../server/image';
import { FIXTURES as LOADER, makeZip, tensorDictPickle, torchZip } from '../fixtures/loader/build';
import { manifest, readFixture } from '../fixtures/imaging/fixtures';
import { assertThat, typedOrValid, validCheckpoint, validRaster } from './contract';
import { bmpLayout, fixPngCrcs, gifLayout, jpegLayout, NO_LAYOUT, pngLayout, safetensorsLayout, zipLayout } from './formats';
import { pickleProgram, pngStream, safetensorsFile, tensorRecord } from './generators';
import { bytesAfter, fuzzCase, mutationsOf, type Base, type FuzzCase } from './mutate';

export interface FuzzProperty {
  /** Cases in a normal `npm test` run; CRATE_LENS_FUZZ_RUNS overrides it. */
  runs: number;
  arbitrary: () => fc.Arbitrary<FuzzCase>;
  check: (bytes: Uint8Array) => void;
}

/** Small, so a lying header cannot make one case allocate much; every fixture fits. */
export const MAX_PIXELS = 1 << 16;

// ---- checks -----------------------------------------------------------------------------------

function checkCheckpoint(bytes: Uint8Array): void {
  typedOrValid('readCheckpointBytes', () => readCheckpointBytes(bytes, 'fuzz.pth'), CheckpointError, validCheckpoint);
}

function checkZip(bytes: Uint8Array): void {
  typedOrValid('ZipArchive.open', () => ZipArchive.open(bytes), CheckpointError, (zip) => {
    for (const [name, entry] of zip.entries) {
      typedOrValid(`ZipArchive.read('${name}')`, () => zip.read(name), CheckpointError, (data) => {
        assertThat(data.length === entry.size, `'${name}' read as ${data.length} bytes, declared ${entry.size}`);
      });
    }
  });
}

/** Any persistent id becomes one float32 storage of 256 elements, so rebuild calls get as far as they can. */
const anyStorage = (): PyValue => new StorageRef('0', 'float32', 256, true, () => new Uint8Array(1024));

function checkPickle(bytes: Uint8Array): void {
  typedOrValid('unpickle', () => unpickle(bytes, { persistentLoad: anyStorage }), CheckpointError, () => undefined);
}

/** Storages for generated pickles: '0' fits most small tensors, '1' is a single byte. */
const STORAGES = { 0: new Uint8Array(64).map((_, i) => i), 1: Uint8Array.of(7) };

function checkPickleProgram(bytes: Uint8Array): void {
  typedOrValid('unpickle without persistent ids', () => unpickle(bytes), CheckpointError, () => undefined);
  checkPickle(bytes);
  checkCheckpoint(torchZip(bytes, STORAGES));
}

function checkSafetensors(bytes: Uint8Array): void {
  typedOrValid('readSafetensors', () => readSafetensors(bytes), CheckpointError, validCheckpoint);
  checkCheckpoint(bytes);
}

function checkImage(bytes: Uint8Array): void {
  typedOrValid('decodeImage', () => decodeImage(bytes, { maxPixels: MAX_PIXELS }), ImageError, (img) => validRaster(img, MAX_PIXELS));
}

// ---- valid inputs -----------------------------------------------------------------------------

const PTH = ['bare.pth', 'training.pth.tar', 'protocol4.pth', 'renamed_archive.pth', 'cuda_location.pth', 'nested_model.pt', 'whole_model.pth'];

function loaderFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(LOADER, name)));
}

let cached: Record<string, Base[]> | undefined;

/** Loaded on first use, so the test files can list the properties without reading fixtures. */
function bases(): Record<string, Base[]> {
  if (cached) return cached;
  const images = (format: string, layout: (b: Uint8Array) => Base['layout']): Base[] =>
    manifest.decode.filter((c) => c.format === format).map((c) => {
      const bytes = readFixture(c.file);
      return { name: c.name, bytes, layout: layout(bytes) };
    });
  cached = {
    pth: PTH.map((name) => ({ name, bytes: loaderFile(name), layout: zipLayout(loaderFile(name)) })),
    pickles: [0, 1, 2, 3, 4, 5].map((p) => ({ name: `data_p${p}.pkl`, bytes: loaderFile(`pickles/data_p${p}.pkl`), layout: NO_LAYOUT })),
    safetensors: [{ name: 'model.safetensors', bytes: loaderFile('model.safetensors'), layout: safetensorsLayout() }],
    png: images('png', pngLayout),
    jpeg: images('jpeg', jpegLayout),
    gif: images('gif', gifLayout),
    bmp: images('bmp', bmpLayout),
  };
  // The pickles inside the archives, for mutations behind valid zip checksums.
  cached.archivedPickles = PTH.slice(0, 3).map((name) => {
    const zip = ZipArchive.open(loaderFile(name));
    const pkl = [...zip.entries.keys()].find((e) => e.endsWith('/data.pkl')) as string;
    return { name, bytes: zip.read(pkl), layout: NO_LAYOUT };
  });
  return cached;
}

/** Rebuilds a fixture archive around a mutated data.pkl, so every checksum is right. */
function rearchive(c: FuzzCase): FuzzCase {
  const zip = ZipArchive.open(loaderFile(c.base as string));
  const entries = [...zip.entries.keys()].map((name) => ({ name, data: name.endsWith('/data.pkl') ? c.bytes : zip.read(name) }));
  return fuzzCase(makeZip(entries, { align: 64 }), `${c.label}, re-archived`, c.base);
}

const ITEM: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8, LongStorage: 8, IntStorage: 4, ByteStorage: 1, BoolStorage: 1 };

/** torch-style archives of generated tensor records; storages usually sized as the first record says. */
const tensorArchive: fc.Arbitrary<FuzzCase> = fc
  .record({ records: fc.array(tensorRecord, { minLength: 1, maxLength: 4 }), sizeDelta: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -8, max: 8 })) })
  .map(({ records, sizeDelta }) => {
    const storages: Record<string, Uint8Array> = {};
    for (const r of records) {
      if (storages[r.key]) continue;
      const size = r.numel * ITEM[r.storageType] + sizeDelta;
      storages[r.key] = new Uint8Array(Number.isSafeInteger(size) && size >= 0 && size <= 1 << 16 ? size : 16).map((_, i) => (i * 29) & 0xff);
    }
    const label = records.map((r) => `${r.name}: ${r.storageType}[${r.numel}] key ${r.key} offset ${r.offset} shape [${r.shape}] stride [${r.stride}]`).join('; ');
    return fuzzCase(torchZip(tensorDictPickle(records), storages), label);
  });

/** Zip archives of small entries, names drawn from a small pool so that duplicates happen. */
const generatedZip: fc.Arbitrary<Base> = fc
  .record({
    entries: fc.array(
      fc.record({ name: fc.constantFrom('archive/data.pkl', 'archive/data/0', 'archive/version', 'a', '', '../x', 'dir/'), data: fc.uint8Array({ maxLength: 200 }), deflate: fc.boolean() }),
      { maxLength: 4 },
    ),
    zip64: fc.boolean(),
    align: fc.constantFrom(0, 64),
  })
  .map(({ entries, zip64, align }) => {
    const bytes = makeZip(entries, { zip64, align: align || undefined });
    return { name: `zip of [${entries.map((e) => `${e.name}${e.deflate ? ' (deflated)' : ''}`).join(', ')}]${zip64 ? ' zip64' : ''}`, bytes, layout: zipLayout(bytes) };
  });

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const LEGACY = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19);
const IMAGE_MAGIC: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['PNG signature', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)],
  ['PNG signature + IHDR length', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52)],
  ['JPEG SOI', Uint8Array.of(0xff, 0xd8, 0xff)],
  ['GIF89a', ascii('GIF89a')],
  ['GIF87a', ascii('GIF87a')],
  ['BM', ascii('BM')],
  ['RIFF WEBP', ascii('RIFF\0\0\0\0WEBP')],
  ['nothing', new Uint8Array(0)],
];

// ---- the registry -----------------------------------------------------------------------------

export const CHECKPOINT_PROPERTIES: Record<string, FuzzProperty> = {
  'pickle: random opcode programs': { runs: 1000, arbitrary: () => pickleProgram, check: checkPickleProgram },
  'pickle: mutated protocol 0-5 pickles': { runs: 600, arbitrary: () => mutationsOf(bases().pickles), check: checkPickle },
  'pickle: random bytes': {
    runs: 400,
    arbitrary: () => bytesAfter([['PROTO 2', Uint8Array.of(0x80, 2)], ['PROTO 4', Uint8Array.of(0x80, 4)], ['nothing', new Uint8Array(0)]], 256),
    check: checkPickle,
  },
  'zip: generated archives, mutated': { runs: 500, arbitrary: () => mutationsOf(generatedZip), check: checkZip },
  'zip: mutated torch archives': { runs: 500, arbitrary: () => mutationsOf(bases().pth), check: checkZip },
  'safetensors: generated headers': { runs: 600, arbitrary: () => safetensorsFile, check: checkSafetensors },
  'safetensors: mutated file': { runs: 300, arbitrary: () => mutationsOf(bases().safetensors), check: checkSafetensors },
  'checkpoint: mutated torch archives': { runs: 500, arbitrary: () => mutationsOf(bases().pth), check: checkCheckpoint },
  'checkpoint: valid archives around mutated pickles': { runs: 500, arbitrary: () => mutationsOf(bases().archivedPickles).map(rearchive), check: checkCheckpoint },
  'checkpoint: generated tensor records': { runs: 600, arbitrary: () => tensorArchive, check: checkCheckpoint },
  'checkpoint: random bytes behind each magic number': {
    runs: 300,
    arbitrary: () => bytesAfter([['zip', Uint8Array.of(0x50, 0x4b, 0x03, 0x04)], ['legacy torch', LEGACY], ['safetensors', ascii('\x10\0\0\0\0\0\0\0{')], ['nothing', new Uint8Array(0)]]),
    check: checkCheckpoint,
  },
};

export const IMAGE_PROPERTIES: Record<string, FuzzProperty> = {
  'image: random bytes behind each signature': { runs: 600, arbitrary: () => bytesAfter(IMAGE_MAGIC, 400), check: checkImage },
  'png: mutated fixtures, checksums repaired half the time': { runs: 500, arbitrary: () => mutationsOf(bases().png, { fixup: fixPngCrcs }), check: checkImage },
  'png: generated chunk streams': { runs: 500, arbitrary: () => pngStream, check: checkImage },
  'jpeg: mutated fixtures': { runs: 500, arbitrary: () => mutationsOf(bases().jpeg), check: checkImage },
  'gif: mutated fixtures': { runs: 400, arbitrary: () => mutationsOf(bases().gif), check: checkImage },
  'bmp: mutated fixtures': { runs: 400, arbitrary: () => mutationsOf(bases().bmp), check: checkImage },
};

export const PROPERTIES: Record<string, FuzzProperty> = { ...CHECKPOINT_PROPERTIES, ...IMAGE_PROPERTIES };
