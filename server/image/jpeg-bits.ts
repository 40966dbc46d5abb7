import { ImageError } from './errors';

/** Marker value the reader reports when the data ends inside entropy-coded data. */
export const END_OF_DATA = -1;

/**
 * Entropy-coded-segment bit reader with libjpeg's semantics: FF 00 is a data byte FF, FF FF..
 * is fill, any other FF xx is a marker that ends the segment. Past a marker the reader yields
 * zero bits and flags `insufficient` only when those bits are actually consumed (libjpeg's
 * "premature end of data segment" warning, after which it leaves the rest of the segment
 * empty). Running off the end of the file is an error: PIL reports such files as truncated.
 */
export class BitReader {
  private acc = 0;
  private bits = 0;
  private realBits = 0;
  /** Marker that ended the segment (its second byte), END_OF_DATA, or 0 while none seen. */
  marker = 0;
  insufficient = false;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    const data = this.data;
    while (this.bits <= 24) {
      let byte = 0;
      let real = false;
      if (this.marker === 0) {
        if (this.pos >= data.length) {
          this.marker = END_OF_DATA;
        } else {
          byte = data[this.pos++];
          real = true;
          if (byte === 0xff) {
            let next = 0xff;
            while (next === 0xff && this.pos < data.length) next = data[this.pos++];
            if (next === 0xff) {
              this.marker = END_OF_DATA;
              real = false;
              byte = 0;
            } else if (next !== 0) {
              this.marker = next;
              real = false;
              byte = 0;
            }
          }
        }
      }
      this.acc = (this.acc << 8) | byte;
      this.bits += 8;
      if (real) this.realBits += 8;
    }
  }

  private consume(n: number): void {
    this.bits -= n;
    if (n > this.realBits) {
      this.realBits = 0;
      if (this.marker === END_OF_DATA) throw new ImageError('corrupt JPEG: file is truncated');
      this.insufficient = true;
    } else {
      this.realBits -= n;
    }
  }

  /** The next n (1..16) bits without consuming them. */
  peek(n: number): number {
    if (this.bits < n) this.fill();
    return (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
  }

  skip(n: number): void {
    if (this.bits < n) this.fill();
    this.consume(n);
  }

  read(n: number): number {
    if (n === 0) return 0;
    const v = this.peek(n);
    this.consume(n);
    return v;
  }

  /** JPEG's "receive and extend": an s-bit magnitude category value (F.2.2.1). */
  receiveExtend(s: number): number {
    const v = this.read(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  /** Drops buffered bits, as libjpeg does at a restart marker. */
  discardBits(): void {
    this.acc = 0;
    this.bits = 0;
    this.realBits = 0;
  }
}
