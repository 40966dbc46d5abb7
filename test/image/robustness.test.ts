// Bad input of every kind ends in an ImageError with a clear message, never a crash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImageError, convertChannels, decodeImage } from '../../server/image';
import { concatBytes as concat, pngChunk } from '../../server/image/png-encode';
import { assertMatches, decodeCase, manifest, readFixture, rng } from '../fixtures/imaging/fixtures';


function png(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return concat(Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), pngChunk('IHDR', ihdr), pngChunk('IDAT', Uint8Array.of(0x78, 0x9c, 3, 0)), pngChunk('IEND', new Uint8Array(0)));
}

function jpegWithSize(width: number, height: number): Uint8Array {
  const bytes = readFixture(decodeCase('jpeg-420').file).slice();
  const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  new DataView(bytes.buffer).setUint16(sof + 5, height);
  new DataView(bytes.buffer).setUint16(sof + 7, width);
  return bytes;
}

function gif(width: number, height: number): Uint8Array {
  const head = Uint8Array.of(...Array.from('GIF89a', (c) => c.charCodeAt(0)), width & 255, width >> 8, height & 255, height >> 8, 0, 0, 0);
  const frame = Uint8Array.of(0x2c, 0, 0, 0, 0, width & 255, width >> 8, height & 255, height >> 8, 0, 2, 2, 0x4c, 0x01, 0, 0x3b);
  return concat(head, frame);
}

function bmp(width: number, height: number): Uint8Array {
  const out = new Uint8Array(54 + 16);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, out.length, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  return out;
}

function expectImageError(bytes: Uint8Array, pattern?: RegExp, maxPixels?: number): void {
  assert.throws(
    () => decodeImage(bytes, maxPixels ? { maxPixels } : {}),
    (e: unknown) => {
      assert.ok(e instanceof ImageError, `expected ImageError, got ${e}`);
      assert.ok(!e.message.includes('\n'), 'one-line message');
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('size limits', () => {
  test('huge declared sizes are refused from the header', () => {
    expectImageError(png(40000, 40000), /^image too large: 40000x40000 exceeds 50 megapixels$/);
    expectImageError(jpegWithSize(40000, 40000), /^image too large: 40000x40000 exceeds 50 megapixels$/);
    expectImageError(gif(65535, 65535), /^image too large: 65535x65535 exceeds 50 megapixels$/);
    expectImageError(bmp(40000, 40000), /^image too large: 40000x40000 exceeds 50 megapixels$/);
  });

  test('maxPixels is honoured for every format', () => {
    for (const name of ['png-rgb8', 'jpeg-420', 'gif-global', 'bmp-24-pil']) {
      const c = decodeCase(name);
      expectImageError(readFixture(c.file), /^image too large: \d+x\d+ exceeds 100 pixels$/, 100);
      assert.equal(decodeImage(readFixture(c.file), { maxPixels: c.width * c.height }).width, c.width);
    }
  });

  test('zero-size images are refused', () => {
    expectImageError(png(0, 5), /^empty image: 0x5 pixels$/);
    expectImageError(png(7, 0), /^empty image: 7x0 pixels$/);
    expectImageError(jpegWithSize(16, 0), /empty image/);
    expectImageError(bmp(0, 4), /empty image/);
    expectImageError(gif(0, 0), /empty/);
  });
});

describe('unsupported and non-image input', () => {
  test('non-images and unknown formats', () => {
    expectImageError(new Uint8Array(0), /^unsupported image format$/);
    expectImageError(new TextEncoder().encode('hello, this is not an image'), /^unsupported image format$/);
    expectImageError(Uint8Array.of(0x49, 0x49, 0x2a, 0, 8, 0, 0, 0), /^unsupported image format$/);
  });

  test('WebP says so', () => {
    const webp = concat(new TextEncoder().encode('RIFF'), Uint8Array.of(30, 0, 0, 0), new TextEncoder().encode('WEBPVP8 '), new Uint8Array(20));
    expectImageError(webp, /^WebP is not supported yet$/);
  });

  test('arithmetic-coded, lossless and 12-bit JPEGs', () => {
    const base = readFixture(decodeCase('jpeg-444').file);
    const sof = base.findIndex((b, i) => b === 0xff && base[i + 1] === 0xc0);
    for (const [marker, pattern] of [[0xc9, /arithmetic/], [0xc3, /lossless/]] as const) {
      const bytes = base.slice();
      bytes[sof + 1] = marker;
      expectImageError(bytes, pattern);
    }
  });

  test('files PIL refuses are refused', () => {
    for (const r of manifest.rejected) expectImageError(readFixture(r.file));
  });

  test('a damaged IDAT checksum is an error (PIL does not check it)', () => {
    const bytes = readFixture(decodeCase('png-rgb8').file).slice();
    const idat = bytes.findIndex((b, i) => String.fromCharCode(b, bytes[i + 1], bytes[i + 2], bytes[i + 3]) === 'IDAT');
    bytes[idat + 10] ^= 0x40;
    expectImageError(bytes, /^corrupt PNG: bad CRC in IDAT chunk$/);
  });
});

describe('truncated files behave as in PIL', () => {
  for (const t of manifest.truncated) {
    const c = decodeCase(t.source);
    test(`${t.source} cut to ${t.keep} bytes: ${t.pilAccepts ? 'decodes' : 'refused'}`, () => {
      const bytes = readFixture(c.file).subarray(0, t.keep);
      if (!t.pilAccepts) {
        expectImageError(bytes);
        return;
      }
      let img;
      try {
        img = decodeImage(bytes);
      } catch (e) {
        // libjpeg's read-ahead sometimes lets PIL finish a file whose EOI marker is cut off;
        // a JPEG must end with EOI here.
        const onlyEoiMissing = c.format === 'jpeg' && t.keep >= readFixture(c.file).length - 2;
        assert.ok(onlyEoiMissing && e instanceof ImageError, `PIL decodes this; we threw ${e}`);
        return;
      }
      assertMatches(convertChannels(img, 3).data, t.rgb as string, 'RGB');
    });
  }
});

describe('garbage never crashes the decoders', () => {
  function decodesOrRefuses(bytes: Uint8Array, label: string): void {
    try {
      const img = decodeImage(bytes, { maxPixels: 1e6 });
      assert.equal(img.data.length, img.width * img.height * img.channels, label);
    } catch (e) {
      if (!(e instanceof ImageError)) assert.fail(`${label}: ${(e as Error).stack}`);
    }
  }

  test('random bytes behind each signature', () => {
    const rand = rng(1);
    const signatures = [
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [0xff, 0xd8, 0xff],
      Array.from('GIF89a', (c) => c.charCodeAt(0)),
      [0x42, 0x4d],
    ];
    for (let i = 0; i < 400; i++) {
      const sig = signatures[i % signatures.length];
      const body = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      decodesOrRefuses(concat(Uint8Array.from(sig), body), `random #${i}`);
    }
  });

  test('every fixture with random damage', () => {
    const rand = rng(2);
    for (const c of manifest.decode) {
      const original = readFixture(c.file);
      for (let i = 0; i < 40; i++) {
        const bytes = original.slice();
        const hits = 1 + Math.floor(rand() * 8);
        for (let k = 0; k < hits; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        const cut = rand() < 0.3 ? Math.floor(rand() * bytes.length) : bytes.length;
        decodesOrRefuses(bytes.subarray(0, cut), `${c.name} damage #${i}`);
      }
    }
  });
});
