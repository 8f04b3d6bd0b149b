// Measured shape tables: bytes per update, per batch entry and per batch, wire bytes after permessage-deflate and CPU per byte, for the simulator's hot paths.
import { ScenarioError } from '../../../scenario/errors.ts';
import {
  checkEncoding,
  frameCodec,
  objectCodec,
  PAYLOAD_ENCODINGS,
  type BatchEntry,
  type EncodingName,
  type Frame,
  type FrameCodec,
  type PayloadEncoding,
} from './codecs.ts';
import { DEFLATE_COSTS, ENCODE_COSTS, type CostLine } from './costs.ts';
import { createCompressor } from './deflate.ts';
import {
  GUIDE_PAYLOAD_CLAIMS,
  GUIDE_SAVINGS_TOLERANCE_PCT,
  GUIDE_STOCK_PRICE,
  type GuidePayloadClaim,
} from './guide.ts';
import { deltaFor, payloadFor, type UpdateData } from './payloads.ts';
import { getUpdateSchema, type UpdateSchema } from './schemas.ts';

export type { EncodingName } from './codecs.ts';

export interface WireFormat {
  encoding: EncodingName;
  deflate: boolean;
  /** permessage-deflate's context takeover (ignored when deflate is off). */
  contextTakeover: boolean;
}

export interface ShapeTable {
  readonly schema: UpdateSchema;
  readonly format: Readonly<WireFormat>;
  readonly fieldCount: number;
  /** All fields. */
  readonly fullMask: number;
  /** One update sent as its own message: full state (fullMask) or a delta carrying `mask` (key + seq always included). Mean over many items/versions. */
  messageBytes(mask: number): number;
  /** The same update as one entry of a batch frame. */
  entryBytes(mask: number): number;
  /** Bytes a batch frame adds around k entries (envelope, separators, length prefixes). */
  batchOverheadBytes(k: number): number;
  /** Bytes on the wire after permessage-deflate for a frame of rawBytes holding `entries` updates (identity when deflate is off). */
  wireBytes(rawBytes: number, entries: number): number;
  /** CPU to serialise rawBytes in this encoding, and to compress them (0 when deflate is off), in µs. */
  encodeUs(rawBytes: number): number;
  compressUs(rawBytes: number): number;
}

/** One (item, version) of the fixed sample every per-mask byte count is a mean over. */
export interface SamplePoint {
  readonly item: number;
  readonly version: number;
  readonly seq: number;
}

/** 16 items, each at a version somewhere in its first few hundred updates. */
export const SAMPLE_SIZE = 16;
/** Sequence numbers of a stream some minutes old (six digits), so seq weighs what it will mid-run. */
export const SEQ_BASE = 100_000;
/** A batch's `ts` (ms since the epoch, 13 digits). */
export const BATCH_TS_MS = 1_700_000_123_456;

const SAMPLE: readonly SamplePoint[] = Array.from({ length: SAMPLE_SIZE }, (_, j) => ({
  item: j,
  version: 1 + ((j * 7_919) % 389),
  seq: SEQ_BASE + ((j * 104_729) % 900_000),
}));

export function shapeSample(): readonly SamplePoint[] {
  return SAMPLE;
}

/** The key plus the fields in `mask` of a full state, in schema order (what fieldsAt would give). */
export function pickFields(schema: UpdateSchema, state: UpdateData, mask: number): UpdateData {
  const out: UpdateData = {};
  schema.fields.forEach((f, i) => {
    if (f.name === schema.key || (mask & (1 << i)) !== 0) out[f.name] = state[f.name];
  });
  return out;
}

/** Batch sizes whose overhead is measured; linear between them (15 and 16: MessagePack's fixarray ends at 15). */
const OVERHEAD_K = [0, 1, 2, 4, 8, 15, 16, 32, 64] as const;
const OVERHEAD_MAX_K = 64;

/** Per (schema, encoding): the byte counts that do not depend on deflate. */
interface Base {
  readonly messageBytes: Float64Array;
  readonly entryBytes: Float64Array;
  /** Overhead for k = 0..64 entries. */
  readonly overhead: Float64Array;
  /** Bytes per entry past 64 (the slope from 32 to 64). */
  readonly overheadPerEntry: number;
}

function measureBase(schema: UpdateSchema, codec: FrameCodec): Base {
  const n = schema.fields.length;
  const size = 1 << n;
  const keyBit = 1 << schema.fields.findIndex((f) => f.name === schema.key);
  const states = SAMPLE.map((p) => payloadFor(schema, p.item, p.version));
  const messageBytes = new Float64Array(size);
  const entryBytes = new Float64Array(size);
  for (let mask = 0; mask < size; mask++) {
    if ((mask & keyBit) === 0) continue;
    let m = 0;
    let e = 0;
    for (let s = 0; s < SAMPLE.length; s++) {
      const data = pickFields(schema, states[s], mask);
      m += codec.frameBytes({ type: 'update', seq: SAMPLE[s].seq, data });
      e += codec.entryBytes({ seq: SAMPLE[s].seq, data });
    }
    messageBytes[mask] = messageBytes[mask & ~keyBit] = Math.round(m / SAMPLE.length);
    entryBytes[mask] = entryBytes[mask & ~keyBit] = Math.round(e / SAMPLE.length);
  }
  // Overhead = the frame's bytes less its entries' own bytes, on a stream of real deltas.
  const entries: BatchEntry[] = [];
  for (let j = 0; j < OVERHEAD_MAX_K; j++) entries.push(streamEntry(schema, 'delta', j));
  const prefix = new Float64Array(OVERHEAD_MAX_K + 1);
  for (let j = 0; j < OVERHEAD_MAX_K; j++) prefix[j + 1] = prefix[j] + codec.entryBytes(entries[j]);
  const measured = OVERHEAD_K.map(
    (k) =>
      codec.frameBytes({ type: 'batch', ts: BATCH_TS_MS, updates: entries.slice(0, k) }) -
      prefix[k],
  );
  const overhead = new Float64Array(OVERHEAD_MAX_K + 1);
  for (let p = 0; p + 1 < OVERHEAD_K.length; p++) {
    const k0 = OVERHEAD_K[p];
    const k1 = OVERHEAD_K[p + 1];
    for (let k = k0; k <= k1; k++)
      overhead[k] = Math.round(
        measured[p] + ((measured[p + 1] - measured[p]) * (k - k0)) / (k1 - k0),
      );
  }
  return {
    messageBytes,
    entryBytes,
    overhead,
    overheadPerEntry: (overhead[64] - overhead[32]) / 32,
  };
}

/** Items a connection in the deflate streams follows (its window sees each of them again and again). */
const STREAM_ITEMS = 16;

/** The j-th update of a connection following STREAM_ITEMS items: full states or deltas. */
function streamEntry(schema: UpdateSchema, kind: 'full' | 'delta', j: number): BatchEntry {
  const item = j % STREAM_ITEMS;
  const version = 1 + Math.floor(j / STREAM_ITEMS);
  const data =
    kind === 'full'
      ? payloadFor(schema, item, version)
      : deltaFor(schema, item, version - 1, version);
  return { seq: SEQ_BASE + j, data };
}

/**
 * Batch-size buckets 1, 2, 4, …, 64 entries and how many frames each measures; frames alternate
 * full-state and delta entries, and in bucket 1 single updates and batches of one.
 */
const BUCKETS = 7;
const FRAMES_PER_BUCKET = [8, 4, 2, 2, 2, 2, 2] as const;
/** Full-state entries must be this much bigger than delta ones for a bucket to get a line, not a ratio. */
const MIN_SPREAD = 1.25;
/** Entries in the frame that warms a takeover stream before anything is measured. */
const WARMUP_ENTRIES = 32;

/**
 * permessage-deflate, measured. One seeded connection stream (STREAM_ITEMS items in turn, each
 * update a full state or a delta) is really compressed frame by frame: with takeover on one
 * window, warmed first by a 32-entry batch as a long-lived connection's window is warm; without,
 * each frame alone. Per bucket b (2^b entries per frame) its full frames and its delta frames give
 * two points (raw bytes per entry, wire bytes per entry), and the line through them,
 * wire = α_b + β_b · raw, is that bucket's model: a frame of mostly small deltas gets the deltas'
 * ratio, one of full states the full states'. A frame of n entries between buckets interpolates
 * the two neighbouring lines linearly in n; past 64 it compresses as 64-entry frames do.
 * Against a stream it was not measured on (other items, versions and batch sizes; a unit test)
 * the model lands within 35% everywhere and mostly within 10%; the worst are single updates with
 * takeover (up to 25% low), whose size depends most on what the window happens to hold.
 * Cost: ~23 fflate calls at first use, each O(window) with takeover (fflate hashes the preset
 * dictionary every call), so a deflate table takes several ms where a plain one takes about one.
 */
interface DeflateModel {
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
}

function measureDeflate(
  schema: UpdateSchema,
  codec: FrameCodec,
  contextTakeover: boolean,
): DeflateModel {
  const alpha = new Float64Array(BUCKETS);
  const beta = new Float64Array(BUCKETS);
  // Per bucket, [full, delta]: raw bytes, wire bytes, entries.
  const raw = [new Float64Array(BUCKETS), new Float64Array(BUCKETS)];
  const wire = [new Float64Array(BUCKETS), new Float64Array(BUCKETS)];
  const count = [new Float64Array(BUCKETS), new Float64Array(BUCKETS)];
  const compressor = createCompressor(contextTakeover);
  let j = 0;
  let ts = BATCH_TS_MS;
  const take = (k: number, kind: 'full' | 'delta') => {
    const out: BatchEntry[] = [];
    for (let e = 0; e < k; e++) out.push(streamEntry(schema, kind, j++));
    return out;
  };
  if (contextTakeover)
    compressor.compress(codec.encode({ type: 'batch', ts, updates: take(WARMUP_ENTRIES, 'full') }));
  for (let b = 0; b < BUCKETS; b++) {
    const k = 1 << b;
    for (let f = 0; f < FRAMES_PER_BUCKET[b]; f++) {
      const kind = f % 2;
      const entries = take(k, kind === 0 ? 'full' : 'delta');
      ts += 50;
      const frame: Frame =
        k === 1 && f % 4 < 2
          ? { type: 'update', seq: entries[0].seq, data: entries[0].data }
          : { type: 'batch', ts, updates: entries };
      const bytes = codec.encode(frame);
      raw[kind][b] += bytes.length;
      wire[kind][b] += compressor.compress(bytes).length;
      count[kind][b] += k;
    }
  }
  for (let b = 0; b < BUCKETS; b++) {
    const rF = raw[0][b] / count[0][b];
    const wF = wire[0][b] / count[0][b];
    const rD = raw[1][b] / count[1][b];
    const wD = wire[1][b] / count[1][b];
    // The line only where the two points are well apart and it makes sense (no negative fixed
    // part, at most one wire byte per raw byte); otherwise one ratio through both (chat messages,
    // whose deltas are as big as their full states, or noise between close points).
    const slope = rF >= MIN_SPREAD * rD ? (wF - wD) / (rF - rD) : -1;
    const intercept = wF - slope * rF;
    if (slope >= 0 && slope <= 1 && intercept >= 0) {
      beta[b] = slope;
      alpha[b] = intercept;
    } else {
      beta[b] = (wire[0][b] + wire[1][b]) / (raw[0][b] + raw[1][b]);
      alpha[b] = 0;
    }
  }
  return { alpha, beta };
}

class Table implements ShapeTable {
  readonly fieldCount: number;
  readonly fullMask: number;
  private readonly keyBit: number;
  private readonly encodePerMessageUs: number;
  private readonly encodePerByteUs: number;
  private readonly compressPerMessageUs: number;
  private readonly compressPerByteUs: number;

  constructor(
    readonly schema: UpdateSchema,
    readonly format: Readonly<WireFormat>,
    private readonly base: Base,
    private readonly deflate: DeflateModel | null,
  ) {
    this.fieldCount = schema.fields.length;
    this.fullMask = (1 << this.fieldCount) - 1;
    this.keyBit = 1 << schema.fields.findIndex((f) => f.name === schema.key);
    const enc: CostLine = ENCODE_COSTS[format.encoding];
    this.encodePerMessageUs = enc.usPerMessage;
    this.encodePerByteUs = enc.usPerKB / 1024;
    const z: CostLine | null =
      deflate === null
        ? null
        : format.contextTakeover
          ? DEFLATE_COSTS.takeover
          : DEFLATE_COSTS.noTakeover;
    this.compressPerMessageUs = z === null ? 0 : z.usPerMessage;
    this.compressPerByteUs = z === null ? 0 : z.usPerKB / 1024;
  }

  messageBytes(mask: number): number {
    return this.base.messageBytes[(mask & this.fullMask) | this.keyBit];
  }

  entryBytes(mask: number): number {
    return this.base.entryBytes[(mask & this.fullMask) | this.keyBit];
  }

  batchOverheadBytes(k: number): number {
    if (k <= 0) return this.base.overhead[0];
    if (k <= OVERHEAD_MAX_K) return this.base.overhead[Math.floor(k)];
    return Math.round(
      this.base.overhead[OVERHEAD_MAX_K] + (k - OVERHEAD_MAX_K) * this.base.overheadPerEntry,
    );
  }

  wireBytes(rawBytes: number, entries: number): number {
    const d = this.deflate;
    if (d === null) return rawBytes;
    if (rawBytes <= 0) return 0;
    const n = entries >= 1 ? Math.floor(entries) : 1;
    let w: number;
    if (n >= 1 << (BUCKETS - 1)) w = n * d.alpha[BUCKETS - 1] + d.beta[BUCKETS - 1] * rawBytes;
    else {
      const b = 31 - Math.clz32(n);
      const t = (n - (1 << b)) / (1 << b);
      const r = rawBytes / n;
      w = n * ((1 - t) * (d.alpha[b] + d.beta[b] * r) + t * (d.alpha[b + 1] + d.beta[b + 1] * r));
    }
    // Deflate never takes less than a byte, nor more than a stored block's 5 bytes over the input.
    const out = Math.round(w);
    return out < 1 ? 1 : out > rawBytes + 5 ? rawBytes + 5 : out;
  }

  encodeUs(rawBytes: number): number {
    return this.encodePerMessageUs + rawBytes * this.encodePerByteUs;
  }

  compressUs(rawBytes: number): number {
    return this.deflate === null
      ? 0
      : this.compressPerMessageUs + rawBytes * this.compressPerByteUs;
  }
}

function checkFormat(format: unknown): WireFormat {
  if (typeof format !== 'object' || format === null)
    throw new ScenarioError('format', 'must be { encoding, deflate, contextTakeover }');
  const f = format as Record<string, unknown>;
  checkEncoding(f.encoding);
  if (typeof f.deflate !== 'boolean')
    throw new ScenarioError('deflate', `must be true or false, is ${String(f.deflate)}`);
  if (typeof f.contextTakeover !== 'boolean')
    throw new ScenarioError(
      'contextTakeover',
      `must be true or false, is ${String(f.contextTakeover)}`,
    );
  // Without deflate takeover means nothing: both spellings share one table.
  return {
    encoding: f.encoding,
    deflate: f.deflate,
    contextTakeover: f.deflate && f.contextTakeover,
  };
}

const BASES = new Map<string, Base>();
const TABLES = new Map<string, ShapeTable>();

function baseFor(schema: UpdateSchema, encoding: EncodingName, cached: boolean): Base {
  const key = `${schema.id}|${encoding}`;
  const hit = cached ? BASES.get(key) : undefined;
  if (hit !== undefined) return hit;
  const base = measureBase(schema, frameCodec(schema, encoding));
  if (cached) BASES.set(key, base);
  return base;
}

/** A shape table measured afresh, bypassing the cache (determinism tests, calibration). */
export function computeShapeTable(schemaId: string, format: WireFormat): ShapeTable {
  const schema = getUpdateSchema(schemaId);
  const f = checkFormat(format);
  const base = baseFor(schema, f.encoding, false);
  const deflate = f.deflate
    ? measureDeflate(schema, frameCodec(schema, f.encoding), f.contextTakeover)
    : null;
  return new Table(schema, Object.freeze(f), base, deflate);
}

/** The shape table of a schema on a wire format: measured at first use, then shared. */
export function shapeTable(schemaId: string, format: WireFormat): ShapeTable {
  const schema = getUpdateSchema(schemaId);
  const f = checkFormat(format);
  const key = `${schema.id}|${f.encoding}|${f.deflate}|${f.contextTakeover}`;
  let table = TABLES.get(key);
  if (table === undefined) {
    const base = baseFor(schema, f.encoding, true);
    const deflate = f.deflate
      ? measureDeflate(schema, frameCodec(schema, f.encoding), f.contextTakeover)
      : null;
    table = new Table(schema, Object.freeze(f), base, deflate);
    TABLES.set(key, table);
  }
  return table;
}

export interface PayloadSizeRow {
  readonly encoding: PayloadEncoding;
  /** One full update, the bare object (no envelope, no seq): mean over the sample, whole bytes. */
  readonly bytes: number;
  /** stock-price only: the guide's exact object in this encoding. */
  readonly guideObjectBytes: number | null;
  /** Per message in the steady state of a connection sending full updates, with permessage-deflate. */
  readonly deflateTakeoverBytes: number;
  readonly deflateNoTakeoverBytes: number;
}

export interface PayloadSizeTable {
  readonly schemaId: string;
  readonly rows: readonly PayloadSizeRow[];
}

/** Steady state: a takeover stream is warmed on this many messages, then this many are measured. */
const STEADY_WARMUP = 16;
const STEADY_MESSAGES = 16;

const SIZE_TABLES = new Map<string, PayloadSizeTable>();

/**
 * The size of one full update of a schema in every payload encoding, bare and after
 * permessage-deflate: the compression scenario's table (computed once per schema, ~10 ms).
 */
export function bytesPerUpdateTable(schemaId: string): PayloadSizeTable {
  const schema = getUpdateSchema(schemaId);
  const hit = SIZE_TABLES.get(schema.id);
  if (hit !== undefined) return hit;
  const states = SAMPLE.map((p) => payloadFor(schema, p.item, p.version));
  const stream: UpdateData[] = [];
  for (let j = 0; j < STEADY_WARMUP + STEADY_MESSAGES; j++)
    stream.push(streamEntry(schema, 'full', j).data);
  const rows = PAYLOAD_ENCODINGS.map((encoding): PayloadSizeRow => {
    const codec = objectCodec(schema, encoding);
    let sum = 0;
    for (const s of states) sum += codec.encode(s).length;
    const takeover = createCompressor(true);
    let withTakeover = 0;
    let without = 0;
    stream.forEach((data, j) => {
      const bytes = codec.encode(data);
      const wire = takeover.compress(bytes).length;
      if (j < STEADY_WARMUP) return;
      withTakeover += wire;
      without += createCompressor(false).compress(bytes).length;
    });
    return {
      encoding,
      bytes: Math.round(sum / states.length),
      guideObjectBytes:
        schema.id === 'stock-price' ? codec.encode({ ...GUIDE_STOCK_PRICE }).length : null,
      deflateTakeoverBytes: Math.round(withTakeover / STEADY_MESSAGES),
      deflateNoTakeoverBytes: Math.round(without / STEADY_MESSAGES),
    };
  });
  const table: PayloadSizeTable = { schemaId: schema.id, rows };
  SIZE_TABLES.set(schema.id, table);
  return table;
}

export interface GuideComparisonRow extends GuidePayloadClaim {
  /** The guide's exact object, measured in this encoding. */
  readonly measuredBytes: number;
  /** Against the measured readable JSON of the same object. */
  readonly measuredSavingsPct: number;
  /** Measured savings at least the claimed ones, less GUIDE_SAVINGS_TOLERANCE_PCT points. */
  readonly holds: boolean;
}

/** Guide says / measured / holds?, row by row, on the guide's own object. */
export function compareWithGuide(): GuideComparisonRow[] {
  const rows = bytesPerUpdateTable('stock-price').rows;
  const bytesOf = (e: PayloadEncoding) =>
    rows.find((r) => r.encoding === e)?.guideObjectBytes as number;
  const json = bytesOf('json-pretty');
  return GUIDE_PAYLOAD_CLAIMS.map((claim) => {
    const measuredBytes = bytesOf(claim.encoding);
    const measuredSavingsPct = Math.round((1 - measuredBytes / json) * 1000) / 10;
    return {
      ...claim,
      measuredBytes,
      measuredSavingsPct,
      holds: measuredSavingsPct >= claim.savingsPct - GUIDE_SAVINGS_TOLERANCE_PCT,
    };
  });
}
