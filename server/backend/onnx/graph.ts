// Builds ONNX graphs node by node and serialises them to ModelProto bytes.
import { bytes, encodeMessage, f32, int, msg, str, type Message } from './protobuf';

const enum DataType { FLOAT = 1, UINT8 = 2, INT64 = 7, BOOL = 9 }
const enum AttrType { FLOAT = 1, INT = 2, GRAPH = 5, INTS = 7 }

/** Attribute values: numbers are ints unless wrapped as `{ float }`; `{ graph }` is a subgraph (If branches). */
export type Attr = number | number[] | { float: number } | { graph: Message };

export interface ValueSpec { name: string; dims: (number | string)[]; type?: 'float' | 'bool' | 'uint8' }

export class GraphBuilder {
  private readonly nodes: Message[] = [];
  private readonly initializers: Message[] = [];
  private readonly inputs: Message[] = [];
  private readonly outputs: Message[] = [];
  /** Shared with branch subgraphs, so every name in the model is unique. */
  private readonly names: { counter: number };

  constructor(names = { counter: 0 }) { this.names = names; }

  private fresh(prefix: string): string { return `${prefix}_${this.names.counter++}`; }

  input(spec: ValueSpec): string {
    this.inputs.push(valueInfo(spec));
    return spec.name;
  }

  output(value: string, spec: ValueSpec): void {
    // An Identity names the output so internal values can be exported under stable names.
    this.op('Identity', [value], {}, spec.name);
    this.outputs.push(valueInfo(spec));
  }

  /**
   * If(cond): runs `then` or `otherwise`, each building a branch whose nodes may read this graph's
   * values by name and returning its outputs (as many, of the same types); returns the If's outputs.
   */
  ifElse(cond: string, then: (b: GraphBuilder) => string[], otherwise: (b: GraphBuilder) => string[]): string[] {
    const branch = (build: (b: GraphBuilder) => string[], label: string): { graph: Message; count: number } => {
      const b = new GraphBuilder(this.names);
      const outputs = build(b).map((value) => {
        const name = this.fresh(`${label}_out`);
        b.op('Identity', [value], {}, name);
        return valueInfo({ name, dims: [] }, false);
      });
      return { graph: b.graphMessage(this.fresh(label), outputs), count: outputs.length };
    };
    const yes = branch(then, 'then');
    const no = branch(otherwise, 'else');
    if (yes.count !== no.count) throw new Error('If branches must have as many outputs');
    const outputs = Array.from({ length: yes.count }, () => this.fresh('if'));
    const node: Message = [str(1, cond), ...outputs.map((o) => str(2, o)), str(3, this.fresh('n_If')), str(4, 'If'),
      msg(5, attribute('then_branch', { graph: yes.graph })), msg(5, attribute('else_branch', { graph: no.graph }))];
    this.nodes.push(node);
    return outputs;
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

  private graphMessage(name: string, outputs: Message[]): Message {
    return [
      ...this.nodes.map((n) => msg(1, n)),
      str(2, name),
      ...this.initializers.map((t) => msg(5, t)),
      ...this.inputs.map((v) => msg(11, v)),
      ...outputs.map((v) => msg(12, v)),
    ];
  }

  toBytes(opset = 17): Uint8Array {
    const model: Message = [int(1, 8), str(2, 'crate-lens'), msg(7, this.graphMessage('crate', this.outputs)), msg(8, [str(1, ''), int(2, opset)])];
    return encodeMessage(model);
  }
}

function attribute(name: string, value: Attr): Message {
  if (typeof value === 'number') return [str(1, name), int(3, value), int(20, AttrType.INT)];
  if (Array.isArray(value)) return [str(1, name), ...value.map((v) => int(8, v)), int(20, AttrType.INTS)];
  if ('graph' in value) return [str(1, name), msg(6, value.graph), int(20, AttrType.GRAPH)];
  return [str(1, name), f32(2, value.float), int(20, AttrType.FLOAT)];
}

/** A value's name and type; `withShape` false leaves the shape unstated (branch outputs vary in shape). */
function valueInfo(spec: ValueSpec, withShape = true): Message {
  const elem = int(1, spec.type === 'bool' ? DataType.BOOL : spec.type === 'uint8' ? DataType.UINT8 : DataType.FLOAT);
  const dims = spec.dims.map((d) => msg(1, typeof d === 'number' ? [int(1, d)] : [str(2, d)]));
  return [str(1, spec.name), msg(2, [msg(1, withShape ? [elem, msg(2, dims)] : [elem])])];
}
