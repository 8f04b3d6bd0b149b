// Every encoder, with and without permessage-deflate, gives back exactly what it was given; deltas rebuild the state.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDelta,
  changedBetween,
  changedMask,
  createCompressor,
  createDecompressor,
  deltaFor,
  ENCODING_NAMES,
  frameCodec,
  getUpdateSchema,
  objectCodec,
  PAYLOAD_ENCODINGS,
  payloadFor,
  UPDATE_SCHEMA_IDS,
  type Frame,
} from '../../src/sim/shaping/encoding/index.ts';

const schemaId = fc.constantFrom(...UPDATE_SCHEMA_IDS);
const item = fc.integer({ min: 0, max: 100_000 });
const version = fc.integer({ min: 0, max: 3_000 });
/** protobuf's seq is a uint32. */
const seq = fc.integer({ min: 0, max: 0xffff_ffff });
const ts = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 });
const compression = fc.constantFrom('off', 'takeover', 'no-takeover');

/** An update: a full state or the delta since some earlier version. */
const update = fc.record({
  item,
  version,
  span: fc.integer({ min: 0, max: 60 }),
  full: fc.boolean(),
  seq,
});
const frameSpec: fc.Arbitrary<FrameSpec> = fc.oneof(
  fc.record({ kind: fc.constant('single' as const), update }),
  fc.record({
    kind: fc.constant('batch' as const),
    ts,
    updates: fc.array(update, { minLength: 0, maxLength: 24 }),
  }),
);

interface UpdateSpec {
  item: number;
  version: number;
  span: number;
  full: boolean;
  seq: number;
}
type FrameSpec =
  { kind: 'single'; update: UpdateSpec } | { kind: 'batch'; ts: number; updates: UpdateSpec[] };

function entryFor(id: string, u: UpdateSpec) {
  const s = getUpdateSchema(id);
  const data = u.full
    ? payloadFor(s, u.item, u.version)
    : deltaFor(s, u.item, Math.max(0, u.version - u.span), u.version);
  return { seq: u.seq, data };
}

function frameFor(id: string, spec: FrameSpec): Frame {
  if (spec.kind === 'single') return { type: 'update', ...entryFor(id, spec.update) };
  return { type: 'batch', ts: spec.ts, updates: spec.updates.map((u) => entryFor(id, u)) };
}

describe('encoders round-trip', () => {
  it('every encoding × deflate off/on × takeover on/off gives back every frame, in order, byte-exact', () => {
    fc.assert(
      fc.property(
        schemaId,
        fc.constantFrom(...ENCODING_NAMES),
        compression,
        fc.array(frameSpec, { minLength: 1, maxLength: 8 }),
        (id, encoding, mode, specs) => {
          const codec = frameCodec(getUpdateSchema(id), encoding);
          // One compressor and one decompressor per connection: a takeover stream decodes in order.
          const takeover = mode === 'takeover';
          const compressor = mode === 'off' ? null : createCompressor(takeover);
          const decompressor = mode === 'off' ? null : createDecompressor(takeover);
          for (const spec of specs) {
            const frame = frameFor(id, spec);
            const bytes = codec.encode(frame);
            expect(codec.frameBytes(frame)).toBe(bytes.length);
            const sent = compressor === null ? bytes : compressor.compress(bytes);
            const received = decompressor === null ? sent : decompressor.decompress(sent);
            expect(received).toEqual(bytes);
            const back = codec.decode(received);
            expect(back).toEqual(frame);
            expect(codec.encode(back)).toEqual(bytes);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('every payload encoding gives back every full state and delta', () => {
    fc.assert(
      fc.property(schemaId, fc.constantFrom(...PAYLOAD_ENCODINGS), update, (id, encoding, u) => {
        const codec = objectCodec(getUpdateSchema(id), encoding);
        const { data } = entryFor(id, u);
        expect(codec.decode(codec.encode(data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});

describe('payloads and deltas', () => {
  it('a delta applied to the earlier state gives the later state', () => {
    fc.assert(
      fc.property(schemaId, item, version, fc.integer({ min: 0, max: 200 }), (id, i, to, back) => {
        const s = getUpdateSchema(id);
        const from = Math.max(0, to - back);
        expect(applyDelta(payloadFor(s, i, from), deltaFor(s, i, from, to))).toEqual(
          payloadFor(s, i, to),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a field is in a delta exactly when some update in between changed it', () => {
    fc.assert(
      fc.property(
        schemaId,
        item,
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 40 }),
        (id, i, from, span) => {
          const s = getUpdateSchema(id);
          let union = 0;
          for (let v = from + 1; v <= from + span; v++) union |= changedMask(s, i, v);
          expect(changedBetween(s, i, from, from + span)).toBe(union);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same (item, version) always gives the same payload', () => {
    fc.assert(
      fc.property(schemaId, item, version, (id, i, v) => {
        const s = getUpdateSchema(id);
        expect(payloadFor(s, i, v)).toEqual(payloadFor(s, i, v));
        expect(JSON.stringify(payloadFor(s, i, v))).toBe(JSON.stringify(payloadFor(s, i, v)));
      }),
      { numRuns: 200 },
    );
  });
});
