// Measured CPU cost of each encoder and of permessage-deflate; written by `npx tsx src/cli/calibrate-encoders.ts --write` (rerun it, do not edit).
import type { EncodingName } from './codecs.ts';

/** Cost of one call: a fixed part per message (frame) plus a part per KB (1,024 bytes) of its raw encoding. */
export interface CostLine {
  readonly usPerMessage: number;
  readonly usPerKB: number;
}

/** Where and how the figures below were measured. */
export const CALIBRATION = {
  machine: 'AMD EPYC (linux x64)',
  cores: 2,
  /** The machine's 1-minute load average when the run started (a busy machine inflates the figures). */
  loadAverage: 2.95,
  node: 'v20.20.2',
  date: '2026-12-03',
  method:
    'median of 9 rounds (each >= 2 ms) per point, 16 distinct frames per point, points = 6 schemas x (single update + batches of 1/2/4/8/16/32/64); least-squares fit of us per frame against raw bytes; deflate: zlib level 6 memLevel 8 async write + Z_SYNC_FLUSH as ws does, process CPU (main + thread pool), window warmed with 32 KB',
} as const;

/** Serialising a frame (object → bytes, UTF-8 included). */
export const ENCODE_COSTS: Record<EncodingName, CostLine> = {
  json: { usPerMessage: 2.201, usPerKB: 8.488 },
  'json-pretty': { usPerMessage: 3.249, usPerKB: 5.343 },
  msgpack: { usPerMessage: 4.282, usPerKB: 11.429 },
  protobuf: { usPerMessage: 2.804, usPerKB: 16.934 },
};

/** Parsing a frame (bytes → object), on the receiving side. */
export const DECODE_COSTS: Record<EncodingName, CostLine> = {
  json: { usPerMessage: 3.554, usPerKB: 9.287 },
  'json-pretty': { usPerMessage: 2.317, usPerKB: 6.117 },
  msgpack: { usPerMessage: 4.599, usPerKB: 16.367 },
  protobuf: { usPerMessage: 5.023, usPerKB: 22.65 },
};

/** permessage-deflate as servers run it (node:zlib, as `ws` does), per raw KB compressed. */
export const DEFLATE_COSTS: { readonly takeover: CostLine; readonly noTakeover: CostLine } = {
  takeover: { usPerMessage: 103.651, usPerKB: 24.379 },
  noTakeover: { usPerMessage: 166.195, usPerKB: 18.619 },
};

/** The same with fflate (pure JS, what the simulator counts bytes with), for reference. */
export const FFLATE_DEFLATE_COSTS: { readonly takeover: CostLine; readonly noTakeover: CostLine } =
  {
    takeover: { usPerMessage: 957.042, usPerKB: 102.626 },
    noTakeover: { usPerMessage: 210.907, usPerKB: 67.77 },
  };
