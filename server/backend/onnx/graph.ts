// Builds ONNX graphs node by node and serialises them to ModelProto bytes.
import { bytes, encodeMessage, f32, int, msg, str, type Message } from './protobuf';

const enum DataType { FLOAT = 1, INT64 = 7 }
const enum AttrType { FLOAT = 1, INT = 2, INTS = 7 }

/** Attribute values: numbers are ints unless wrapped as `{ float }`. */
export type Attr = number | number[] | { float: number };

export interface ValueSpec { name: string; dims: (number | string)[] }

export class GraphBuilder {
  private readonly nodes: Message[] = [];
  private readonly initializers: Message[] = [];
  private readonly inputs: Message[] = [];
  private readonly outputs: Message[] = [];
  private counter = 0;

  private fresh(prefix: string): string { return `${prefix}_${this.counter++}`; }

  input(spec: ValueSpec): string {
    this.inputs.push(valueInfo(spec));
    return spec.name;
  }

  output(value: string, spec: ValueSpec): void {
    // An Identity names the output so internal values can be exported under stable names.
    this.op('Identity', [value], {}, spec.name);
    this.outputs.push(valueInfo(spec));
  }

  floatTensor(prefix: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(prefix);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push([...dims.map((d) => int(1, d)), int(2, DataType.FLOAT), str(8, name), bytes(9, raw)]);
    return name;
  }

  scalar(value: number): string { return this.floatTensor('scalar', [], Float32Array.of(value)); }

  ints(values: number[]): string {
    const name = this.fresh('ints');
    const raw = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    this.initializers.push([int(1, values.length), int(2, DataType.INT64), str(8, name), bytes(9, raw)]);
    return name;
  }

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, outputName?: string): string {
    const output = outputName ?? this.fresh(type.toLowerCase());
    const node: Message = [...inputs.map((i) => str(1, i)), str(2, output), str(3, this.fresh(`n_${type}`)), str(4, type)];
    for (const [name, value] of Object.entries(attrs)) node.push(msg(5, attribute(name, value)));
    this.nodes.push(node);
    return output;
  }

  toBytes(opset = 17): Uint8Array {
    const graph: Message = [
      ...this.nodes.map((n) => msg(1, n)),
      str(2, 'crate'),
      ...this.initializers.map((t) => msg(5, t)),
      ...this.inputs.map((v) => msg(11, v)),
      ...this.outputs.map((v) => msg(12, v)),
    ];
    const model: Message = [int(1, 8), str(2, 'crate-lens'), msg(7, graph), msg(8, [str(1, ''), int(2, opset)])];
    return encodeMessage(model);
  }
}

function attribute(name: string, value: Attr): Message {
  if (typeof value === 'number') return [str(1, name), int(3, value), int(20, AttrType.INT)];
  if (Array.isArray(value)) return [str(1, name), ...value.map((v) => int(8, v)), int(20, AttrType.INTS)];
  return [str(1, name), f32(2, value.float), int(20, AttrType.FLOAT)];
}

function valueInfo(spec: ValueSpec): Message {
  const dims = spec.dims.map((d) => msg(1, typeof d === 'number' ? [int(1, d)] : [str(2, d)]));
  return [str(1, spec.name), msg(2, [msg(1, [int(1, DataType.FLOAT), msg(2, dims)])])];
}
