import { BitReader } from './jpeg-bits';
import { ImageError } from './errors';

const LOOKAHEAD = 8;

/** A decoding table built like libjpeg's jpeg_make_d_derived_tbl, including its validation. */
export class HuffmanTable {
  private readonly lookup = new Int32Array(1 << LOOKAHEAD);
  private readonly maxcode = new Int32Array(18);
  private readonly valoffset = new Int32Array(18);
  private readonly values = new Uint8Array(256);

  /** counts[i] = number of codes of length i + 1. */
  constructor(counts: ArrayLike<number>, values: ArrayLike<number>, isDC: boolean) {
    const sizes: number[] = [];
    for (let l = 1; l <= 16; l++) {
      for (let i = 0; i < counts[l - 1]; i++) sizes.push(l);
    }
    if (sizes.length > 256 || values.length < sizes.length) throw new ImageError('corrupt JPEG: bad Huffman table');
    const codes = new Int32Array(sizes.length);
    let code = 0;
    let si = sizes[0] ?? 0;
    let p = 0;
    while (p < sizes.length) {
      while (p < sizes.length && sizes[p] === si) codes[p++] = code++;
      // No code may be all ones, so the next code must still fit in si bits.
      if (code >= 1 << si) throw new ImageError('corrupt JPEG: bad Huffman table');
      code <<= 1;
      si++;
    }
    p = 0;
    for (let l = 1; l <= 16; l++) {
      const n = counts[l - 1];
      if (n) {
        this.valoffset[l] = p - codes[p];
        p += n;
        this.maxcode[l] = codes[p - 1];
      } else {
        this.maxcode[l] = -1;
      }
    }
    this.maxcode[17] = 0xfffff;
    for (let i = 0; i < sizes.length; i++) this.values[i] = values[i];
    this.lookup.fill((LOOKAHEAD + 1) << LOOKAHEAD);
    p = 0;
    for (let l = 1; l <= LOOKAHEAD; l++) {
      for (let i = 0; i < counts[l - 1]; i++, p++) {
        let look = codes[p] << (LOOKAHEAD - l);
        for (let n = 1 << (LOOKAHEAD - l); n > 0; n--) this.lookup[look++] = (l << LOOKAHEAD) | this.values[p];
      }
    }
    if (isDC) {
      for (let i = 0; i < sizes.length; i++) {
        if (this.values[i] > 15) throw new ImageError('corrupt JPEG: bad Huffman table');
      }
    }
  }

  /**
   * Decodes one symbol. An invalid code consumes 17 bits and yields 0, which is what libjpeg
   * does (with a warning) so that corrupt data still gives the same pixels.
   */
  decode(r: BitReader): number {
    const entry = this.lookup[r.peek(LOOKAHEAD)];
    const length = entry >> LOOKAHEAD;
    if (length <= LOOKAHEAD) {
      r.skip(length);
      return entry & 0xff;
    }
    let l = LOOKAHEAD + 1;
    let code = r.read(l);
    while (code > this.maxcode[l]) {
      code = (code << 1) | r.read(1);
      l++;
    }
    if (l > 16) return 0;
    return this.values[(code + this.valoffset[l]) & 0xff];
  }
}
