/**
 * A pickle reader for PyTorch state dicts that executes nothing: the opcodes and globals of torch's
 * `weights_only` unpickler (torch/_weights_only_unpickler.py, torch 1.13) and nothing else. Python's
 * pickle runs any callable a file names (GLOBAL 'os system' + REDUCE is code execution); here a GLOBAL
 * outside torch's allow-list is refused by name before anything is built, and the allowed ones are
 * data: OrderedDict, tensor rebuilds (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_parameter) over
 * storages (FloatStorage, HalfStorage, BFloat16Storage, ...) referenced by persistent ids.
 *
 * Where this differs from torch 1.13: it also takes the protocol-4 framing opcodes and BINFLOAT
 * (later torch releases allow them; they build only plain values), and of torch's allowed globals it
 * builds only dense tensors: sparse, meta and quantised tensors, legacy BUILD-on-Tensor and the
 * complex/quantised storages are refused with a message that says so. Every malformed input is an
 * InputError naming the file (the fuzz test holds it to that).
 */
import { InputError } from '../../lab/core/index.ts';
import type { SafetensorsDtype } from './safetensors.ts';

/** A storage a tensor views: the zip entry `data/<key>` holding `numel` elements of `dtype`. */
export interface StorageRef {
  kind: 'storage';
  dtype: SafetensorsDtype;
  key: string;
  numel: number;
}

/** A dense tensor: `shape` elements of `storage` from element `offset`, `stride` apart per dim. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

/** Python values the allowed opcodes build. */
class Global {
  constructor(readonly path: string) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}
class Dict {
  readonly map = new Map<unknown, unknown>();
  constructor(readonly ordered: boolean) {}
}
/** torch.nn.Parameter (the class, for NEWOBJ). */
const PARAMETER = 'torch.nn.parameter.Parameter';

const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** torch 1.13's _get_allowed_globals() (the names; what each builds is below). */
const TORCH_ALLOWED = new Set<string>([
  'collections.OrderedDict', PARAMETER, 'torch.serialization._get_layout', 'torch.Size', 'torch.Tensor',
  ...['complex32', 'complex64', 'complex128', 'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64'].map((t) => `torch.${t}`),
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
  ...['ComplexFloatStorage', 'ComplexDoubleStorage', 'QUInt2x4Storage', 'QUInt4x2Storage', 'QInt32Storage', 'QInt8Storage', 'QUInt8Storage'].map((s) => `torch.${s}`),
  'torch.storage.TypedStorage', 'torch.storage.UntypedStorage', 'torch.storage._TypedStorage', 'torch.storage._UntypedStorage',
  ...['_rebuild_parameter', '_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_sparse_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_sparse_csr_tensor'].map((f) => `torch._utils.${f}`),
]);
const isTorchTensorClass = (p: string) => /^torch\.(cuda\.)?(sparse\.)?[A-Za-z0-9]+Tensor$/.test(p);

/** Parses pickle bytes into a JS value (Map for dicts, arrays for tuples and lists, TensorRef for tensors). */
export function unpickleStateDict(bytes: Uint8Array, path: string): unknown {
  const bad = (why: string, at: number) => new InputError(`${path}: ${why} (pickle byte ${at})`, path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) throw bad(`truncated: an opcode needs ${n} bytes past the end`, pos);
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const text = (n: number) => {
    need(n);
    const s = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw bad('truncated: a GLOBAL name has no end of line', pos);
    const s = text(end - pos);
    pos++;
    return s;
  };
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const pop = (at: number) => {
    if (stack.length === 0) throw bad('stack underflow', at);
    return stack.pop();
  };
  const top = (at: number) => {
    if (stack.length === 0) throw bad('stack underflow', at);
    return stack[stack.length - 1];
  };
  const popMark = (at: number) => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw bad('no MARK to pop to', at);
    stack = prev;
    return items;
  };
  const global = (p: string, at: number) => {
    if (!TORCH_ALLOWED.has(p) && !isTorchTensorClass(p)) {
      throw bad(`refusing global '${p}': a pytorch_model.bin may hold only tensors and OrderedDicts (torch's weights_only allow-list); this file would run code when loaded with pickle`, at);
    }
    return new Global(p);
  };
  const setItem = (d: unknown, k: unknown, v: unknown, at: number) => {
    if (!(d instanceof Dict)) throw bad('SETITEM on something that is not a dict', at);
    if (typeof k !== 'string' && typeof k !== 'number') throw bad('a dict key that is not a string or number', at);
    d.map.set(k, v);
  };
  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); pos += 8; break; // FRAME (protocol 4): a length hint only
      case 0x2e: { // STOP
        const v = pop(at);
        return toJs(v, path, 0);
      }
      case 0x63: { // GLOBAL 'module\nname\n'
        const mod = line();
        stack.push(global(`${mod}.${line()}`, at));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(at);
        const mod = pop(at);
        if (typeof mod !== 'string' || typeof name !== 'string') throw bad('STACK_GLOBAL needs two strings', at);
        stack.push(global(`${mod}.${name}`, at));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(at);
        const fn = pop(at);
        if (!(fn instanceof Global) || !(args instanceof Tuple)) throw bad('REDUCE of something that is not an allowed global and a tuple', at);
        stack.push(reduce(fn.path, args.items, bad, at));
        break;
      }
      case 0x81: { // NEWOBJ: only Parameter(tensor, requires_grad)
        const args = pop(at);
        const cls = pop(at);
        if (!(cls instanceof Global) || cls.path !== PARAMETER || !(args instanceof Tuple)) throw bad(`NEWOBJ of ${cls instanceof Global ? cls.path : 'a non-class'}: torch allows only Parameter`, at);
        stack.push(asTensor(args.items[0], bad, at));
        break;
      }
      case 0x62: { // BUILD: state for an OrderedDict (its _metadata) or a Parameter; ignored, it holds no weights
        const state = pop(at);
        const inst = top(at);
        if (inst instanceof Dict && inst.ordered) break;
        if (isTensor(inst)) {
          if (state instanceof Tuple) throw bad('legacy BUILD on a Tensor (set_ from a storage) is not read', at);
          break;
        }
        throw bad('BUILD on something other than an OrderedDict or a Parameter', at);
      }
      case 0x51: { // BINPERSID: ('storage', StorageClass, key, location, numel)
        const pid = pop(at);
        stack.push(storage(pid, bad, at));
        break;
      }
      case 0x61: { // APPEND
        const v = pop(at);
        const l = top(at);
        if (!Array.isArray(l)) throw bad('APPEND to something that is not a list', at);
        l.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark(at);
        const l = top(at);
        if (!Array.isArray(l)) throw bad('APPENDS to something that is not a list', at);
        l.push(...items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(at);
        const k = pop(at);
        setItem(top(at), k, v, at);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark(at);
        if (items.length % 2) throw bad('SETITEMS with an odd number of items', at);
        const d = top(at);
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1], at);
        break;
      }
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x74: { // TUPLE (popMark first: it replaces `stack`)
        const items = popMark(at);
        stack.push(new Tuple(items));
        break;
      }
      case 0x85: stack.push(new Tuple([pop(at)])); break; // TUPLE1
      case 0x86: { const b = pop(at); const a = pop(at); stack.push(new Tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(at); const b = pop(at); const a = pop(at); stack.push(new Tuple([a, b, c])); break; } // TUPLE3
      case 0x4e: stack.push(null); break; // NONE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Dict(false)); break; // EMPTY_DICT
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list; never a weight)
      case 0x4a: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: need(2); stack.push(view.getUint16(pos, true)); pos += 2; break; // BININT2
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i]!);
        if (n > 0 && bytes[pos + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`integer ${v} is beyond 2^53`, at);
        stack.push(Number(v));
        break;
      }
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(view.getBigUint64(pos, true)); pos += 8; stack.push(text(n)); break; } // BINUNICODE8
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING (ASCII, as torch.load's encoding)
      case 0x71: memo.set(u8(), top(at)); break; // BINPUT
      case 0x72: memo.set(u32(), top(at)); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top(at)); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) throw bad(`memo entry ${i} is not set`, at);
        stack.push(memo.get(i));
        break;
      }
      default:
        throw bad(`opcode 0x${op.toString(16).padStart(2, '0')} is not one torch's weights_only unpickler allows`, at);
    }
  }
}

function isTensor(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

type Bad = (why: string, at: number) => InputError;

function asTensor(v: unknown, bad: Bad, at: number): TensorRef {
  if (!isTensor(v)) throw bad('a Parameter that does not wrap a tensor', at);
  return v;
}

function ints(v: unknown, what: string, bad: Bad, at: number): number[] {
  const items = v instanceof Tuple ? v.items : undefined;
  if (!items || !items.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw bad(`a tensor ${what} that is not a tuple of non-negative integers`, at);
  return items as number[];
}

function reduce(fn: string, args: unknown[], bad: Bad, at: number): unknown {
  switch (fn) {
    case 'collections.OrderedDict':
      if (args.length !== 0) throw bad('OrderedDict built from arguments is not read', at);
      return new Dict(true);
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      const [st, offset, size, stride] = args;
      if (typeof st !== 'object' || st === null || (st as StorageRef).kind !== 'storage') throw bad(`${fn} without a storage`, at);
      if (!Number.isInteger(offset) || (offset as number) < 0) throw bad(`${fn}: a storage offset that is not a non-negative integer`, at);
      const shape = ints(size, 'size', bad, at);
      const strides = ints(stride, 'stride', bad, at);
      if (strides.length !== shape.length) throw bad(`${fn}: size [${shape}] and stride [${strides}] differ in length`, at);
      return { kind: 'tensor', storage: st as StorageRef, offset: offset as number, shape, stride: strides } satisfies TensorRef;
    }
    case 'torch._utils._rebuild_parameter':
      return asTensor(args[0], bad, at);
    default:
      throw bad(`'${fn}' is in torch's weights_only allow-list but builds no dense tensor; the lab reads dense float weights only`, at);
  }
}

function storage(pid: unknown, bad: Bad, at: number): StorageRef {
  const items = pid instanceof Tuple ? pid.items : undefined;
  if (!items || items[0] !== 'storage' || items.length !== 5) throw bad("a persistent id that is not ('storage', type, key, location, numel)", at);
  const [, type, key, , numel] = items;
  const name = type instanceof Global ? type.path.replace(/^torch\.(cuda\.)?/, '') : '';
  const dtype = STORAGE_DTYPES[name];
  if (!dtype) throw bad(`storage type ${type instanceof Global ? type.path : JSON.stringify(type)} is not one the lab reads (${Object.keys(STORAGE_DTYPES).join(', ')})`, at);
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) throw bad(`storage key ${JSON.stringify(key)} is not a plain entry name`, at);
  if (!Number.isInteger(numel) || (numel as number) < 0) throw bad('a storage size that is not a non-negative integer', at);
  return { kind: 'storage', dtype, key, numel: numel as number };
}

/** The unpickled root as plain JS: Dict -> Map, Tuple -> array. A state dict is shallow: deep (or cyclic, through the memo) nesting is refused. */
function toJs(v: unknown, path: string, depth: number): unknown {
  if (depth > 32) throw new InputError(`${path}: the pickle nests containers more than 32 deep (or in a cycle): not a state dict`, path);
  if (v instanceof Dict) return new Map([...v.map].map(([k, x]) => [k, toJs(x, path, depth + 1)]));
  if (v instanceof Tuple) return v.items.map((x) => toJs(x, path, depth + 1));
  if (Array.isArray(v)) return v.map((x) => toJs(x, path, depth + 1));
  if (v instanceof Global) throw new InputError(`${path}: the pickle's root is a bare global (${v.path}), not a state dict`, path);
  return v;
}
