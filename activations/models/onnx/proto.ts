/**
 * The part of ONNX's model format (onnx/onnx.proto, IR version 8) the lab writes: a model, its graph,
 * nodes with attributes, tensors with raw little-endian data, and typed value infos. Field numbers and
 * enum values are the spec's; protobufjs does the wire encoding. Only writing: the lab builds graphs
 * from checkpoints it has loaded and checked itself, it never reads .onnx files.
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values the lab uses. */
export const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType values. */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: { Dimension: { oneofs: { value: { oneof: ['dimValue', 'dimParam'] } }, fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } } },
        },
        TypeProto: {
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
      },
    },
  },
});

const ModelProto = root.lookupType('onnx.ModelProto');
const GraphProto = root.lookupType('onnx.GraphProto');
const TensorProto = root.lookupType('onnx.TensorProto');

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | TensorSpec;

export interface TensorSpec {
  name: string;
  dims: number[];
  dataType: number;
  data: ArrayBufferView;
}

export interface NodeSpec {
  opType: string;
  input: string[];
  output: string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

/** A dimension: a fixed size or a symbolic name (dim_param) the session fills at run time. */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  elemType: number;
  dims: Dim[];
}

export interface ModelSpec {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  /** ONNX default-domain opset. */
  opset: number;
  producer: string;
}

function tensorMessage(t: TensorSpec): Record<string, unknown> {
  // A Buffer view, no copy: protobufjs' node writer copies any other Uint8Array into a Buffer first.
  const raw = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dims: t.dims, dataType: t.dataType, rawData: raw };
}

/** Integers are INT(S) attributes; { float } and { floats } mark floats (a JS number does not say which). */
function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass { float: ${v} }`);
    return { name, type: AT.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AT.FLOATS, floats: v.floats };
  return { name, type: AT.TENSOR, t: tensorMessage(v) };
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  const dim = v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: v.elemType, shape: { dim } } } };
}

/** A field's tag and length prefix (wire type 2): what precedes a length-delimited field's bytes. */
function prefix(field: number, length: number): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | 2).uint32(length).finish();
}

/**
 * The model's bytes (a serialised ModelProto), as InferenceSession.create takes them. The weights are
 * spliced in rather than passed through protobufjs' writer, which grows and copies its buffer chunk by
 * chunk (3 s for GPT-2 small's 0.5 GB): protobuf messages are their fields' encodings concatenated, in
 * any order, so each initializer is its header (name, dims, type) + raw_data's tag and length + the
 * values, the graph its other fields + those initializers, and the model its fields + the graph. One
 * copy of each tensor into the result.
 */
export function encodeModel(m: ModelSpec): Uint8Array {
  const graph = {
    name: 'main',
    node: m.nodes.map((n, i) => ({
      input: n.input, output: n.output, name: `n${i}_${n.opType}`, opType: n.opType, domain: n.domain ?? '',
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    input: m.inputs.map(valueInfo),
    output: m.outputs.map(valueInfo),
  };
  const pieces: Uint8Array[] = [];
  // Plain objects encode as they are (fromObject would copy them first).
  pieces.push(ModelProto.encode({ irVersion: 8, producerName: m.producer, opsetImport: [{ domain: '', version: m.opset }] }).finish());
  const graphHead = GraphProto.encode(graph).finish();
  const inits: Uint8Array[][] = m.initializers.map((t) => {
    const head = TensorProto.encode({ name: t.name, dims: t.dims, dataType: t.dataType }).finish();
    const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const raw = prefix(9, data.byteLength);
    return [prefix(5, head.length + raw.length + data.byteLength), head, raw, data];
  });
  const graphLength = graphHead.length + inits.reduce((s, parts) => s + parts.reduce((a, p) => a + p.length, 0), 0);
  pieces.push(prefix(7, graphLength), graphHead);
  for (const parts of inits) pieces.push(...parts);
  const out = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
