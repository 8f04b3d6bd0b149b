// Calibrates the encoders' CPU cost on this machine and writes src/sim/shaping/encoding/costs.ts (`npx tsx src/cli/calibrate-encoders.ts [--write]`).
import { readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { format, resolveConfig } from 'prettier';
import { ScenarioError } from '../scenario/errors.ts';
import {
  BATCH_TS_MS,
  computeShapeTable,
  createCompressor,
  deltaFor,
  ENCODING_NAMES,
  frameCodec,
  getUpdateSchema,
  payloadFor,
  SEQ_BASE,
  shapeTable,
  UPDATE_SCHEMA_IDS,
  type BatchEntry,
  type CostLine,
  type EncodingName,
  type Frame,
} from '../sim/shaping/encoding/index.ts';

const ENCODING_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'sim',
  'shaping',
  'encoding',
);
const COSTS_PATH = join(ENCODING_DIR, 'costs.ts');
const PROTO_PATH = join(ENCODING_DIR, 'updates.proto');
const PROTO_SOURCE_PATH = join(ENCODING_DIR, 'proto-source.ts');

const USAGE = `usage: npx tsx src/cli/calibrate-encoders.ts [--write] [--quick] [--rounds N] [--json]
       npx tsx src/cli/calibrate-encoders.ts --proto
  (no flag)   time every encoder and permessage-deflate, print the costs.ts it measured
  --write     write it to src/sim/shaping/encoding/costs.ts
  --quick     fewer rounds and sizes (a smoke run; do not --write it)
  --rounds N  timing rounds per point (median taken; default 9)
  --json      print the figures as one JSON object instead
  --proto     regenerate proto-source.ts from updates.proto and exit`;

/** proto-source.ts for a given updates.proto text: a template literal holding it byte for byte. */
export function protoSourceText(proto: string): string {
  const escaped = proto.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
  return (
    '// Generated from updates.proto by `npx tsx src/cli/calibrate-encoders.ts --proto`: the .proto text for the core, which reads no files.\n\n' +
    '/** The text of updates.proto, byte for byte (tests/unit/encoding.test.ts compares them). */\n' +
    `export const UPDATES_PROTO = \`${escaped}\`;\n`
  );
}

/** Frame sizes timed: single updates, then batches of these many entries. */
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64] as const;
const QUICK_BATCH_SIZES = [1, 16] as const;
/** Distinct frames per point, so caches and branch predictors see varied input. */
const FRAMES_PER_POINT = 16;
/** Traffic sent through a deflate stream before timing: a full 32 KB window, as a long-lived connection has. */
const WARM_WINDOW_BYTES = 32_768;
/** A timing round lasts at least this long (repeating the frames), so the clock's grain is small. */
const MIN_ROUND_MS = 2;

interface Point {
  /** What the frames are: `schema/encoding/single` or `…/batch-k`. */
  label: string;
  frames: Frame[];
  encoded: Uint8Array[];
  /** Mean raw bytes per frame. */
  bytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Updates of a connection following 16 items, alternating full states and deltas. */
function entries(schemaId: string, start: number, n: number): BatchEntry[] {
  const schema = getUpdateSchema(schemaId);
  const out: BatchEntry[] = [];
  for (let j = start; j < start + n; j++) {
    const item = j % 16;
    const version = 1 + Math.floor(j / 16);
    const data =
      j % 2 === 0
        ? payloadFor(schema, item, version)
        : deltaFor(schema, item, version - 1, version);
    out.push({ seq: SEQ_BASE + j, data });
  }
  return out;
}

function framesFor(schemaId: string, size: number | 'single'): Frame[] {
  const frames: Frame[] = [];
  let j = 0;
  for (let f = 0; f < FRAMES_PER_POINT; f++) {
    if (size === 'single') {
      const e = entries(schemaId, j++, 1)[0];
      frames.push({ type: 'update', seq: e.seq, data: e.data });
    } else {
      frames.push({ type: 'batch', ts: BATCH_TS_MS + 50 * f, updates: entries(schemaId, j, size) });
      j += size;
    }
  }
  return frames;
}

function pointsFor(encoding: EncodingName, sizes: readonly number[]): Point[] {
  const points: Point[] = [];
  for (const schemaId of UPDATE_SCHEMA_IDS) {
    const codec = frameCodec(getUpdateSchema(schemaId), encoding);
    for (const size of ['single' as const, ...sizes]) {
      const frames = framesFor(schemaId, size);
      const encoded = frames.map((f) => codec.encode(f));
      const bytes = encoded.reduce((a, b) => a + b.length, 0) / encoded.length;
      points.push({
        label: `${schemaId}/${encoding}/${size === 'single' ? 'single' : `batch-${size}`}`,
        frames,
        encoded,
        bytes,
      });
    }
  }
  return points;
}

/** Median µs per call of `op` over the inputs: rounds of at least MIN_ROUND_MS each. */
function timeSync<T>(inputs: T[], op: (x: T) => unknown, rounds: number): number {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (const x of inputs) op(x);
    if (performance.now() - t0 >= MIN_ROUND_MS || reps >= 1 << 16) break;
    reps *= 2;
  }
  const perCallUs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (const x of inputs) op(x);
    perCallUs.push(((performance.now() - t0) * 1000) / (reps * inputs.length));
  }
  return median(perCallUs);
}

/** Least squares µs = usPerMessage + usPerByte · bytes; a negative intercept is refitted through 0. */
function fit(points: { bytes: number; us: number }[]): CostLine {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.bytes, 0) / n;
  const my = points.reduce((a, p) => a + p.us, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.bytes - mx) * (p.us - my);
    sxx += (p.bytes - mx) ** 2;
  }
  let slope = sxx > 0 ? sxy / sxx : 0;
  let intercept = my - slope * mx;
  if (intercept < 0) {
    intercept = 0;
    slope =
      points.reduce((a, p) => a + p.bytes * p.us, 0) /
      points.reduce((a, p) => a + p.bytes * p.bytes, 0);
  }
  return { usPerMessage: round3(intercept), usPerKB: round3(slope * 1024) };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A steady-state zlib stream as `ws` runs permessage-deflate: async write + Z_SYNC_FLUSH per message. */
function zlibConnection(contextTakeover: boolean) {
  const z = zlib.createDeflateRaw({ level: 6, memLevel: 8, windowBits: 15 });
  const chunks: Buffer[] = [];
  z.on('data', (c: Buffer) => chunks.push(c));
  return {
    send: (message: Uint8Array) =>
      new Promise<number>((resolve) => {
        z.write(message);
        z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          const n = chunks.reduce((a, c) => a + c.length, 0) - 4;
          chunks.length = 0;
          // ws resets the stream after each message when context takeover is off.
          if (!contextTakeover) z.reset();
          resolve(n);
        });
      }),
    close: () => z.close(),
  };
}

/** CPU µs per message of zlib (process CPU: the main thread and the thread pool that compresses). */
async function timeZlib(
  inputs: Uint8Array[],
  contextTakeover: boolean,
  rounds: number,
): Promise<number> {
  const conn = zlibConnection(contextTakeover);
  // Warm the window with 32 KB of the same traffic: the steady state of a long-lived connection.
  for (let sent = 0, i = 0; sent < WARM_WINDOW_BYTES; i++) {
    const x = inputs[i % inputs.length];
    await conn.send(x);
    sent += x.length;
  }
  const reps = Math.max(1, Math.ceil(64 / inputs.length));
  const perCallUs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) for (const x of inputs) await conn.send(x);
    const c = process.cpuUsage(c0);
    perCallUs.push((c.user + c.system) / (reps * inputs.length));
  }
  conn.close();
  return median(perCallUs);
}

function timeFflate(inputs: Uint8Array[], contextTakeover: boolean, rounds: number): number {
  const compressor = createCompressor(contextTakeover);
  for (let sent = 0, i = 0; sent < WARM_WINDOW_BYTES; i++) {
    const x = inputs[i % inputs.length];
    compressor.compress(x);
    sent += x.length;
  }
  return timeSync(inputs, (x) => compressor.compress(x), rounds);
}

/** zlib's and fflate's bytes for the same stream, to state how close the simulator's counts are. */
async function compareSizes(): Promise<Record<string, { zlib: number; fflate: number }>> {
  const out: Record<string, { zlib: number; fflate: number }> = {};
  for (const contextTakeover of [true, false]) {
    let z = 0;
    let f = 0;
    for (const schemaId of UPDATE_SCHEMA_IDS) {
      const codec = frameCodec(getUpdateSchema(schemaId), 'json');
      const conn = zlibConnection(contextTakeover);
      const compressor = createCompressor(contextTakeover);
      for (const frame of [...framesFor(schemaId, 'single'), ...framesFor(schemaId, 16)]) {
        const bytes = codec.encode(frame);
        z += await conn.send(bytes);
        f += compressor.compress(bytes).length;
      }
      conn.close();
    }
    out[contextTakeover ? 'takeover' : 'noTakeover'] = { zlib: z, fflate: f };
  }
  return out;
}

/** How long shape tables take at first use (cold: the first in this process) and again (warm). */
function timeShapeTables(): Record<string, number> {
  const ms = (f: () => unknown) => {
    const t0 = performance.now();
    f();
    return round3(performance.now() - t0);
  };
  const plain = { encoding: 'json', deflate: false, contextTakeover: false } as const;
  const takeover = { encoding: 'json', deflate: true, contextTakeover: true } as const;
  const none = { encoding: 'json', deflate: true, contextTakeover: false } as const;
  return {
    coldStockPriceJsonMs: ms(() => shapeTable('stock-price', plain)),
    coldStockPriceJsonTakeoverMs: ms(() => shapeTable('stock-price', takeover)),
    coldStockPriceJsonNoTakeoverMs: ms(() => shapeTable('stock-price', none)),
    warmStockPriceJsonMs: median(
      [0, 1, 2, 3, 4].map(() => ms(() => computeShapeTable('stock-price', plain))),
    ),
    warmStockPriceJsonTakeoverMs: median(
      [0, 1, 2, 3, 4].map(() => ms(() => computeShapeTable('stock-price', takeover))),
    ),
    warmStockPriceProtobufMs: median(
      [0, 1, 2, 3, 4].map(() =>
        ms(() => computeShapeTable('stock-price', { ...plain, encoding: 'protobuf' })),
      ),
    ),
  };
}

interface Calibration {
  calibration: {
    machine: string;
    cores: number;
    loadAverage: number;
    node: string;
    date: string;
    method: string;
  };
  encode: Record<EncodingName, CostLine>;
  decode: Record<EncodingName, CostLine>;
  deflate: { takeover: CostLine; noTakeover: CostLine };
  fflateDeflate: { takeover: CostLine; noTakeover: CostLine };
  sizes: Record<string, { zlib: number; fflate: number }>;
  shapeTables: Record<string, number>;
  wallMs: number;
}

async function calibrate(
  rounds: number,
  quick: boolean,
  log: (s: string) => void,
): Promise<Calibration> {
  const start = performance.now();
  const loadAverage = round3(loadavg()[0]);
  const shapeTables = timeShapeTables();
  const sizes = quick
    ? BATCH_SIZES.filter((k) => (QUICK_BATCH_SIZES as readonly number[]).includes(k))
    : BATCH_SIZES;
  const encode = {} as Record<EncodingName, CostLine>;
  const decode = {} as Record<EncodingName, CostLine>;
  const deflateInputs: Point[] = [];
  for (const encoding of ENCODING_NAMES) {
    const points = pointsFor(encoding, sizes);
    const enc: { bytes: number; us: number }[] = [];
    const dec: { bytes: number; us: number }[] = [];
    for (const p of points) {
      const codec = frameCodec(getUpdateSchema(p.label.split('/')[0]), encoding);
      enc.push({ bytes: p.bytes, us: timeSync(p.frames, (f) => codec.encode(f), rounds) });
      dec.push({ bytes: p.bytes, us: timeSync(p.encoded, (b) => codec.decode(b), rounds) });
    }
    encode[encoding] = fit(enc);
    decode[encoding] = fit(dec);
    log(
      `${encoding.padEnd(12)} encode ${fmt(encode[encoding])}   decode ${fmt(decode[encoding])}   (${points.length} points)`,
    );
    // Deflate is timed on text and binary frames alike: JSON and protobuf, single and batched.
    if (encoding === 'json' || encoding === 'protobuf')
      deflateInputs.push(...points.filter((p) => /single|batch-(4|16|64)$/.test(p.label)));
  }
  const deflate = {
    takeover: { usPerMessage: 0, usPerKB: 0 },
    noTakeover: { usPerMessage: 0, usPerKB: 0 },
  };
  const fflateDeflate = {
    takeover: { usPerMessage: 0, usPerKB: 0 },
    noTakeover: { usPerMessage: 0, usPerKB: 0 },
  };
  for (const contextTakeover of [true, false]) {
    const z: { bytes: number; us: number }[] = [];
    const f: { bytes: number; us: number }[] = [];
    for (const p of deflateInputs) {
      z.push({ bytes: p.bytes, us: await timeZlib(p.encoded, contextTakeover, rounds) });
      f.push({
        bytes: p.bytes,
        us: timeFflate(p.encoded, contextTakeover, Math.max(3, rounds >> 1)),
      });
    }
    const key = contextTakeover ? 'takeover' : 'noTakeover';
    deflate[key] = fit(z);
    fflateDeflate[key] = fit(f);
    log(
      `deflate ${key.padEnd(10)} zlib ${fmt(deflate[key])}   fflate ${fmt(fflateDeflate[key])}   (${z.length} points)`,
    );
  }
  const cpu = cpus();
  return {
    calibration: {
      machine: `${cpu[0]?.model.trim() ?? 'unknown CPU'} (${platform()} ${arch()})`,
      cores: cpu.length,
      loadAverage,
      node: process.version,
      date: new Date().toISOString().slice(0, 10),
      method:
        `median of ${rounds} rounds (each >= ${MIN_ROUND_MS} ms) per point, 16 distinct frames per point, ` +
        `points = 6 schemas x (single update + batches of ${sizes.join('/')}); ` +
        'least-squares fit of us per frame against raw bytes; deflate: zlib level 6 memLevel 8 async write + ' +
        'Z_SYNC_FLUSH as ws does, process CPU (main + thread pool), window warmed with 32 KB',
    },
    encode,
    decode,
    deflate,
    fflateDeflate,
    sizes: await compareSizes(),
    shapeTables,
    wallMs: Math.round(performance.now() - start),
  };
}

/** Formats generated source as the repository's prettier config does. */
async function prettier(path: string, source: string): Promise<string> {
  return format(source, { ...(await resolveConfig(path)), filepath: path });
}

function fmt(c: CostLine): string {
  return `${c.usPerMessage.toFixed(2)} us/msg + ${c.usPerKB.toFixed(2)} us/KB`;
}

function line(c: CostLine): string {
  return `{ usPerMessage: ${c.usPerMessage}, usPerKB: ${c.usPerKB} }`;
}

/** The costs.ts file for a calibration. */
export function costsSourceText(c: Omit<Calibration, 'sizes' | 'shapeTables' | 'wallMs'>): string {
  const table = (r: Record<EncodingName, CostLine>) =>
    ENCODING_NAMES.map((e) => `  '${e}': ${line(r[e])},`).join('\n');
  return `// Measured CPU cost of each encoder and of permessage-deflate; written by \`npx tsx src/cli/calibrate-encoders.ts --write\` (rerun it, do not edit).
import type { EncodingName } from './codecs.ts';

/** Cost of one call: a fixed part per message (frame) plus a part per KB (1,024 bytes) of its raw encoding. */
export interface CostLine {
  readonly usPerMessage: number;
  readonly usPerKB: number;
}

/** Where and how the figures below were measured. */
export const CALIBRATION = {
  machine: ${JSON.stringify(c.calibration.machine)},
  cores: ${c.calibration.cores},
  /** The machine's 1-minute load average when the run started (a busy machine inflates the figures). */
  loadAverage: ${c.calibration.loadAverage},
  node: ${JSON.stringify(c.calibration.node)},
  date: ${JSON.stringify(c.calibration.date)},
  method: ${JSON.stringify(c.calibration.method)},
} as const;

/** Serialising a frame (object → bytes, UTF-8 included). */
export const ENCODE_COSTS: Record<EncodingName, CostLine> = {
${table(c.encode)}
};

/** Parsing a frame (bytes → object), on the receiving side. */
export const DECODE_COSTS: Record<EncodingName, CostLine> = {
${table(c.decode)}
};

/** permessage-deflate as servers run it (node:zlib, as \`ws\` does), per raw KB compressed. */
export const DEFLATE_COSTS: { readonly takeover: CostLine; readonly noTakeover: CostLine } = {
  takeover: ${line(c.deflate.takeover)},
  noTakeover: ${line(c.deflate.noTakeover)},
};

/** The same with fflate (pure JS, what the simulator counts bytes with), for reference. */
export const FFLATE_DEFLATE_COSTS: { readonly takeover: CostLine; readonly noTakeover: CostLine } = {
  takeover: ${line(c.fflateDeflate.takeover)},
  noTakeover: ${line(c.fflateDeflate.noTakeover)},
};
`;
}

/** Runs the calibration; returns the exit code. Bad flags throw a ScenarioError naming the flag. */
export async function main(
  argv: string[],
  log: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  let values: {
    write?: boolean;
    quick?: boolean;
    rounds?: string;
    json?: boolean;
    proto?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        write: { type: 'boolean' },
        quick: { type: 'boolean' },
        rounds: { type: 'string' },
        json: { type: 'boolean' },
        proto: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ScenarioError('flags', `${(e as Error).message}\n${USAGE}`);
  }
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.proto === true) {
    writeFileSync(
      PROTO_SOURCE_PATH,
      await prettier(PROTO_SOURCE_PATH, protoSourceText(readFileSync(PROTO_PATH, 'utf8'))),
    );
    log(`wrote ${PROTO_SOURCE_PATH}`);
    return 0;
  }
  const rounds =
    values.rounds === undefined ? (values.quick === true ? 3 : 9) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 101)
    throw new ScenarioError('--rounds', `must be an integer in [1, 101], is ${values.rounds}`);
  if (values.write === true && values.quick === true)
    throw new ScenarioError('--write', 'a --quick run is too rough to write');
  const c = await calibrate(rounds, values.quick === true, log);
  log(`sizes (json, 6 schemas, singles + 16-entry batches): ${JSON.stringify(c.sizes)}`);
  log(`shape tables at first use: ${JSON.stringify(c.shapeTables)}`);
  log(`calibration took ${(c.wallMs / 1000).toFixed(1)} s`);
  if (values.json === true) console.log(JSON.stringify(c, null, 2));
  else if (values.write === true) {
    writeFileSync(COSTS_PATH, await prettier(COSTS_PATH, costsSourceText(c)));
    log(`wrote ${COSTS_PATH}`);
  } else console.log(await prettier(COSTS_PATH, costsSourceText(c)));
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    console.error(e.message);
    process.exitCode = 2;
  }
}
