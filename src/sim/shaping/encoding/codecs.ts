// The real encoders: JSON (pretty, minified, short keys), MessagePack and Protocol Buffers, for single updates, batch frames and bare objects.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { strFromU8, strToU8 } from 'fflate';
import { ScenarioError } from '../../../scenario/errors.ts';
import type { UpdateData } from './payloads.ts';
import { dataFromMessage, longToNumber, protoTypes } from './protobuf.ts';
import type { UpdateSchema } from './schemas.ts';

/** The wire encodings the simulator sends updates in. */
export type EncodingName = 'json' | 'json-pretty' | 'msgpack' | 'protobuf';
export const ENCODING_NAMES: readonly EncodingName[] = [
  'json',
  'json-pretty',
  'msgpack',
  'protobuf',
];

/** The encodings of the payload-size comparison: the wire ones plus the guide's "minified" JSON with short keys. */
export type PayloadEncoding = 'json-pretty' | 'json' | 'json-short' | 'msgpack' | 'protobuf';
export const PAYLOAD_ENCODINGS: readonly PayloadEncoding[] = [
  'json-pretty',
  'json',
  'json-short',
  'msgpack',
  'protobuf',
];

/** One update sent as its own message: full state or a delta (absent fields are unchanged). */
export interface UpdateFrame {
  type: 'update';
  seq: number;
  data: UpdateData;
}
/** One update inside a batch frame. */
export interface BatchEntry {
  seq: number;
  data: UpdateData;
}
/** Several updates in one message, stamped with the send time (ms since the epoch). */
export interface BatchFrame {
  type: 'batch';
  ts: number;
  updates: BatchEntry[];
}
export type Frame = UpdateFrame | BatchFrame;

/** Encodes and decodes whole WebSocket messages of one schema in one encoding. */
export interface FrameCodec {
  readonly encoding: EncodingName;
  encode(frame: Frame): Uint8Array;
  decode(bytes: Uint8Array): Frame;
  /** encode(frame).length, without materialising the bytes (measuring). */
  frameBytes(frame: Frame): number;
  /**
   * The bytes one entry takes inside a batch frame, without what the frame puts around it:
   * separators and indentation before it (JSON) or its field tag and length prefix (protobuf).
   */
  entryBytes(entry: BatchEntry): number;
}

/** Encodes and decodes one update's data alone, with no envelope (the payload-size table). */
export interface ObjectCodec {
  readonly encoding: PayloadEncoding;
  encode(data: UpdateData): Uint8Array;
  decode(bytes: Uint8Array): UpdateData;
}

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** protobufjs hands out Node Buffers in Node and Uint8Arrays in browsers: give the same type everywhere. */
function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function badFrame(why: string): never {
  throw new ScenarioError('frame', why);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Checks what JSON.parse or MessagePack gave back has a frame's shape. */
function asFrame(x: unknown): Frame {
  if (!isRecord(x)) badFrame('not an object');
  if (x.type === 'update') {
    if (typeof x.seq !== 'number' || !isRecord(x.data)) badFrame('an update needs seq and data');
    return x as unknown as UpdateFrame;
  }
  if (x.type === 'batch') {
    if (typeof x.ts !== 'number' || !Array.isArray(x.updates))
      badFrame('a batch needs ts and updates');
    for (const e of x.updates)
      if (!isRecord(e) || typeof e.seq !== 'number' || !isRecord(e.data))
        badFrame('bad batch entry');
    return x as unknown as BatchFrame;
  }
  return badFrame(`unknown frame type ${JSON.stringify(x.type)}`);
}

function jsonCodec(pretty: boolean): FrameCodec {
  const text = (x: unknown) => (pretty ? JSON.stringify(x, null, 2) : JSON.stringify(x));
  return {
    encoding: pretty ? 'json-pretty' : 'json',
    encode: (frame) => strToU8(text(frame)),
    decode: (bytes) => asFrame(JSON.parse(strFromU8(bytes))),
    frameBytes: (frame) => utf8Length(text(frame)),
    // Pretty: the entry sits two levels deep, so each of its lines after the first gains 4 spaces.
    entryBytes: (entry) => {
      const s = text(entry);
      return utf8Length(s) + (pretty ? 4 * countNewlines(s) : 0);
    },
  };
}

let msgpackEncoder: Encoder | null = null;
let msgpackDecoder: Decoder | null = null;
const packer = () => (msgpackEncoder ??= new Encoder());
const unpacker = () => (msgpackDecoder ??= new Decoder());

const MSGPACK: FrameCodec = {
  encoding: 'msgpack',
  encode: (frame) => packer().encode(frame),
  decode: (bytes) => asFrame(unpacker().decode(bytes)),
  frameBytes: (frame) => packer().encodeSharedRef(frame).length,
  // MessagePack nests without context: an entry inside an array is exactly its own encoding.
  entryBytes: (entry) => packer().encodeSharedRef(entry).length,
};

function protobufCodec(schema: UpdateSchema): FrameCodec {
  const t = protoTypes(schema);
  const field = t.dataField;
  const entryMessage = (e: BatchEntry) => ({ seq: e.seq, [field]: e.data });
  const entryFrom = (u: Record<string, unknown>): BatchEntry => {
    if (u.data !== field) badFrame(`expected ${field}, got ${String(u.data)}`);
    return { seq: longToNumber(u.seq), data: dataFromMessage(t, u[field]) };
  };
  const frameMessage = (frame: Frame) =>
    frame.type === 'update'
      ? { update: entryMessage(frame) }
      : { batch: { ts: frame.ts, updates: frame.updates.map(entryMessage) } };
  return {
    encoding: 'protobuf',
    encode: (frame) => plainBytes(t.frame.encode(frameMessage(frame)).finish()),
    frameBytes: (frame) => t.frame.encode(frameMessage(frame)).len,
    decode: (bytes) => {
      const f = t.frame.decode(bytes) as unknown as Record<string, unknown>;
      if (f.kind === 'update') {
        const e = entryFrom(f.update as Record<string, unknown>);
        return { type: 'update', seq: e.seq, data: e.data };
      }
      if (f.kind === 'batch') {
        const b = f.batch as { ts: unknown; updates: Record<string, unknown>[] };
        return { type: 'batch', ts: longToNumber(b.ts), updates: b.updates.map(entryFrom) };
      }
      return badFrame('a Frame with neither update nor batch');
    },
    // `Writer.len` is the message's length before finish(): no copy.
    entryBytes: (entry) => t.update.encode(entryMessage(entry)).len,
  };
}

const FRAME_CODECS = new WeakMap<UpdateSchema, Partial<Record<EncodingName, FrameCodec>>>();

export function checkEncoding(encoding: unknown): asserts encoding is EncodingName {
  if (typeof encoding !== 'string' || !(ENCODING_NAMES as readonly string[]).includes(encoding))
    throw new ScenarioError(
      'encoding',
      `unknown encoding ${JSON.stringify(encoding)}; known: ${ENCODING_NAMES.join(', ')}`,
    );
}

/** The frame codec of one schema in one wire encoding (built once, then shared). */
export function frameCodec(schema: UpdateSchema, encoding: EncodingName): FrameCodec {
  checkEncoding(encoding);
  let bySchema = FRAME_CODECS.get(schema);
  if (bySchema === undefined) FRAME_CODECS.set(schema, (bySchema = {}));
  let codec = bySchema[encoding];
  if (codec === undefined) {
    codec =
      encoding === 'json' || encoding === 'json-pretty'
        ? jsonCodec(encoding === 'json-pretty')
        : encoding === 'msgpack'
          ? MSGPACK
          : protobufCodec(schema);
    bySchema[encoding] = codec;
  }
  return codec;
}

/** The object codec of one schema in one payload encoding (no envelope, no seq). */
export function objectCodec(schema: UpdateSchema, encoding: PayloadEncoding): ObjectCodec {
  if (typeof encoding !== 'string' || !(PAYLOAD_ENCODINGS as readonly string[]).includes(encoding))
    throw new ScenarioError(
      'encoding',
      `unknown encoding ${JSON.stringify(encoding)}; known: ${PAYLOAD_ENCODINGS.join(', ')}`,
    );
  switch (encoding) {
    case 'json':
    case 'json-pretty': {
      const pretty = encoding === 'json-pretty';
      return {
        encoding,
        encode: (data) => strToU8(pretty ? JSON.stringify(data, null, 2) : JSON.stringify(data)),
        decode: (bytes) => JSON.parse(strFromU8(bytes)) as UpdateData,
      };
    }
    case 'json-short': {
      const toShort = Object.create(null) as Record<string, string>;
      const toName = Object.create(null) as Record<string, string>;
      for (const f of schema.fields) {
        toShort[f.name] = f.short;
        toName[f.short] = f.name;
      }
      return {
        encoding,
        encode: (data) => {
          const out: Record<string, unknown> = {};
          for (const f of schema.fields)
            if (Object.hasOwn(data, f.name)) out[f.short] = data[f.name];
          return strToU8(JSON.stringify(out));
        },
        decode: (bytes) => {
          const parsed: unknown = JSON.parse(strFromU8(bytes));
          if (!isRecord(parsed)) badFrame('not an object');
          const out: UpdateData = {};
          for (const [k, v] of Object.entries(parsed)) {
            if (!Object.hasOwn(toName, k)) badFrame(`unknown short key ${JSON.stringify(k)}`);
            out[toName[k]] = v as UpdateData[string];
          }
          return out;
        },
      };
    }
    case 'msgpack':
      return {
        encoding,
        encode: (data) => packer().encode(data),
        decode: (bytes) => unpacker().decode(bytes) as UpdateData,
      };
    case 'protobuf': {
      const t = protoTypes(schema);
      return {
        encoding,
        encode: (data) => plainBytes(t.data.encode(data).finish()),
        decode: (bytes) => dataFromMessage(t, t.data.decode(bytes)),
      };
    }
  }
}
