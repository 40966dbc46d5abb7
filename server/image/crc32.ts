import * as zlib from 'node:zlib';

/** CRC-32 (ISO 3309, as used by PNG chunks). */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

// Node >= 20.15 has a native implementation; the table version covers older releases.
const native: ((data: Uint8Array, value?: number) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  if (native) return native(bytes.subarray(start, end), seed) >>> 0;
  let c = ~seed >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
