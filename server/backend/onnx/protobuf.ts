// A minimal protobuf encoder: a message is a list of fields, sized first and written once,
// so large weight tensors are copied into the model bytes exactly one time.

export type Field =
  | { num: number; varint: number | bigint }
  | { num: number; bytes: Uint8Array }
  | { num: number; message: Message }
  | { num: number; float: number };

export type Message = Field[];

const encoder = new TextEncoder();

export function str(num: number, value: string): Field { return { num, bytes: encoder.encode(value) }; }
export function int(num: number, value: number | bigint): Field { return { num, varint: value }; }
export function msg(num: number, message: Message): Field { return { num, message }; }
export function bytes(num: number, value: Uint8Array): Field { return { num, bytes: value }; }
export function f32(num: number, value: number): Field { return { num, float: value }; }

function varintSize(value: bigint): number {
  let size = 1;
  while (value >= 0x80n) { value >>= 7n; size++; }
  return size;
}

/** Negative int64 values are encoded as their 64-bit two's complement, as protobuf requires. */
function asUnsigned(value: number | bigint): bigint {
  const v = BigInt(value);
  return v < 0n ? v + (1n << 64n) : v;
}

function payloadSize(field: Field, sizes: Map<Message, number>): number {
  if ('varint' in field) return varintSize(asUnsigned(field.varint));
  if ('float' in field) return 4;
  const len = 'bytes' in field ? field.bytes.length : messageSize(field.message, sizes);
  return varintSize(BigInt(len)) + len;
}

function messageSize(message: Message, sizes: Map<Message, number>): number {
  const cached = sizes.get(message);
  if (cached !== undefined) return cached;
  let size = 0;
  for (const field of message) size += varintSize(BigInt(field.num << 3)) + payloadSize(field, sizes);
  sizes.set(message, size);
  return size;
}

class Writer {
  pos = 0;
  constructor(readonly out: Uint8Array, readonly view = new DataView(out.buffer, out.byteOffset, out.byteLength)) {}
  varint(value: bigint): void {
    while (value >= 0x80n) { this.out[this.pos++] = Number(value & 0x7fn) | 0x80; value >>= 7n; }
    this.out[this.pos++] = Number(value);
  }
}

function writeMessage(w: Writer, message: Message, sizes: Map<Message, number>): void {
  for (const field of message) {
    if ('varint' in field) {
      w.varint(BigInt(field.num << 3));
      w.varint(asUnsigned(field.varint));
    } else if ('float' in field) {
      w.varint(BigInt((field.num << 3) | 5));
      w.view.setFloat32(w.pos, field.float, true);
      w.pos += 4;
    } else if ('bytes' in field) {
      w.varint(BigInt((field.num << 3) | 2));
      w.varint(BigInt(field.bytes.length));
      w.out.set(field.bytes, w.pos);
      w.pos += field.bytes.length;
    } else {
      w.varint(BigInt((field.num << 3) | 2));
      w.varint(BigInt(messageSize(field.message, sizes)));
      writeMessage(w, field.message, sizes);
    }
  }
}

export function encodeMessage(message: Message): Uint8Array {
  const sizes = new Map<Message, number>();
  const out = new Uint8Array(messageSize(message, sizes));
  const w = new Writer(out);
  writeMessage(w, message, sizes);
  if (w.pos !== out.length) throw new Error(`protobuf size mismatch: wrote ${w.pos} of ${out.length}`);
  return out;
}
