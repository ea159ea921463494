// A minimal writer for the ONNX protobuf messages a model needs, written from the field numbers
// of the public onnx.proto (proto2). Encoding only: reading a model is onnxruntime's job.
// Node-free, so an edge bundle can export too.

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorProto {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** FLOAT, DOUBLE, INT32 and INT64 values go to raw_data (little-endian); STRING to string_data. */
  values: ArrayLike<number> | readonly string[];
}

/** A dimension: a fixed size, or a symbolic name for a size known only at run time. */
export type Dim = number | string;

export interface ValueInfoProto {
  name: string;
  elemType: DataTypeCode;
  shape: Dim[];
  docString?: string;
}

export type AttributeValue =
  | { float: number }
  | { int: number }
  | { string: string }
  | { tensor: TensorProto }
  | { floats: number[] }
  | { ints: number[] }
  | { strings: string[] };

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImports: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProto;
  metadata?: Record<string, string>;
}

const VARINT = 0;
const BYTES = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

/** Protobuf wire-format writer: appends to growing chunks; nested messages are encoded first, then framed. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.byteLength;
  }

  private varint(value: bigint): void {
    // int64 fields carry negatives as their 64-bit two's complement: ten bytes.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf field ${field}: ${value} is not an integer`);
    this.tag(field, VARINT);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, BYTES);
    this.varint(BigInt(value.byteLength));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, write: (w: Writer) => void): this {
    const inner = new Writer();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }
}

function rawData(tensor: TensorProto): Uint8Array {
  const values = tensor.values as ArrayLike<number>;
  const n = values.length;
  switch (tensor.dataType) {
    case DataType.FLOAT:
      return new Uint8Array(littleEndian(n, 4, (view, i) => view.setFloat32(i * 4, values[i]!, true)));
    case DataType.DOUBLE:
      return new Uint8Array(littleEndian(n, 8, (view, i) => view.setFloat64(i * 8, values[i]!, true)));
    case DataType.INT32:
      return new Uint8Array(littleEndian(n, 4, (view, i) => view.setInt32(i * 4, values[i]!, true)));
    case DataType.INT64:
      return new Uint8Array(littleEndian(n, 8, (view, i) => view.setBigInt64(i * 8, BigInt(values[i]!), true)));
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return new Uint8Array(littleEndian(n, 1, (view, i) => view.setUint8(i, Number(values[i]!) & 0xff)));
    case DataType.STRING:
      throw new TypeError(`tensor '${tensor.name}': strings are stored in string_data, not raw_data`);
  }
}

function littleEndian(n: number, width: number, set: (view: DataView, i: number) => void): ArrayBuffer {
  const buffer = new ArrayBuffer(n * width);
  const view = new DataView(buffer);
  for (let i = 0; i < n; i++) set(view, i);
  return buffer;
}

function writeTensor(w: Writer, tensor: TensorProto): void {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.values.length) {
    throw new RangeError(
      `tensor '${tensor.name}' has dims [${tensor.dims.join(', ')}] (${count} values) but ${tensor.values.length} values`,
    );
  }
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.dataType);
  if (tensor.name) w.string(8, tensor.name);
  if (tensor.dataType === DataType.STRING) {
    for (const s of tensor.values as readonly string[]) w.string(6, s);
  } else {
    w.bytes(9, rawData(tensor));
  }
}

function writeValueInfo(w: Writer, info: ValueInfoProto): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, info.elemType);
      tensor.message(2, (shape) => {
        for (const d of info.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
  if (info.docString) w.string(3, info.docString);
}

function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  w.string(1, name);
  if ('float' in value) w.int(20, AttributeType.FLOAT).float(2, value.float);
  else if ('int' in value) w.int(20, AttributeType.INT).int(3, value.int);
  else if ('string' in value) w.int(20, AttributeType.STRING).string(4, value.string);
  else if ('tensor' in value) w.int(20, AttributeType.TENSOR).message(5, (t) => writeTensor(t, value.tensor));
  else if ('floats' in value) {
    w.int(20, AttributeType.FLOATS);
    for (const f of value.floats) w.float(7, f);
  } else if ('ints' in value) {
    w.int(20, AttributeType.INTS);
    for (const i of value.ints) w.int(8, i);
  } else {
    w.int(20, AttributeType.STRINGS);
    for (const s of value.strings) w.string(9, s);
  }
}

function writeNode(w: Writer, node: NodeProto): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {}))
    w.message(5, (a) => writeAttribute(a, name, value));
  if (node.domain) w.string(7, node.domain);
}

function writeGraph(w: Writer, graph: GraphProto): void {
  for (const node of graph.nodes) w.message(1, (n) => writeNode(n, node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.message(5, (t) => writeTensor(t, tensor));
  if (graph.docString) w.string(10, graph.docString);
  for (const input of graph.inputs) w.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) w.message(12, (v) => writeValueInfo(v, output));
}

/** Serializes a model to the bytes of an .onnx file. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const opset of model.opsetImports) {
    w.message(8, (o) => {
      if (opset.domain) o.string(1, opset.domain);
      o.int(2, opset.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {}))
    w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}
