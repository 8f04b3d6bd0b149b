// Update encodings: schemas as data, the .proto kept in step, exact sizes of the guide's object, and the measured shape tables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';
import { main as calibrateMain, protoSourceText } from '../../src/cli/calibrate-encoders.ts';
import { ScenarioError } from '../../src/scenario/errors.ts';
import {
  bytesPerUpdateTable,
  CALIBRATION,
  changedMask,
  compareWithGuide,
  computeShapeTable,
  createCompressor,
  createDecompressor,
  DECODE_COSTS,
  DEFLATE_COSTS,
  deltaFor,
  ENCODE_COSTS,
  ENCODING_NAMES,
  frameCodec,
  getUpdateSchema,
  GUIDE_PAYLOAD_CLAIMS,
  GUIDE_STOCK_PRICE,
  objectCodec,
  payloadFor,
  PAYLOAD_ENCODINGS,
  pickFields,
  protoTypes,
  shapeSample,
  shapeTable,
  UPDATE_SCHEMA_IDS,
  UPDATES_PROTO,
  validateSchema,
  type EncodingName,
  type Frame,
  type ShapeTable,
  type UpdateSchema,
  type WireFormat,
} from '../../src/sim/shaping/encoding/index.ts';
import * as encodingModule from '../../src/sim/shaping/encoding/index.ts';

const ENCODING_DIR = join(import.meta.dirname, '..', '..', 'src', 'sim', 'shaping', 'encoding');
const FORMATS: WireFormat[] = ENCODING_NAMES.flatMap((encoding) => [
  { encoding, deflate: false, contextTakeover: false },
  { encoding, deflate: true, contextTakeover: true },
  { encoding, deflate: true, contextTakeover: false },
]);
const label = (f: WireFormat) =>
  `${f.encoding}${f.deflate ? (f.contextTakeover ? '+deflate' : '+deflate(no takeover)') : ''}`;

function expectFieldError(fn: () => unknown, field: string, mentions?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ScenarioError').toBeInstanceOf(ScenarioError);
  expect((caught as ScenarioError).field).toBe(field);
  if (mentions !== undefined) expect((caught as ScenarioError).message).toContain(mentions);
}

/** Every lookup a simulator makes, over a grid, as plain numbers (for equality between two tables). */
function snapshot(t: ShapeTable): number[] {
  const out: number[] = [];
  for (let m = 0; m <= t.fullMask; m++) out.push(t.messageBytes(m), t.entryBytes(m));
  for (let k = 0; k <= 200; k += 7) out.push(t.batchOverheadBytes(k));
  for (const raw of [1, 40, 100, 999, 5_000, 70_000])
    for (const n of [1, 2, 3, 5, 16, 33, 64, 65, 500]) out.push(t.wireBytes(raw, n));
  for (const raw of [0, 100, 10_000]) out.push(t.encodeUs(raw), t.compressUs(raw));
  return out;
}

describe('update schemas', () => {
  it('ships the schemas the case studies need, each valid', () => {
    expect(UPDATE_SCHEMA_IDS).toEqual(
      expect.arrayContaining([
        'stock-price',
        'sensor-reading',
        'score-update',
        'chat-message',
        'bid-update',
      ]),
    );
    for (const id of UPDATE_SCHEMA_IDS) {
      const s = getUpdateSchema(id);
      expect(s.id).toBe(id);
      expect(() => validateSchema(s)).not.toThrow();
    }
  });

  it('stock-price is exactly the guide’s object: symbol, price, change, volume', () => {
    const s = getUpdateSchema('stock-price');
    expect(s.key).toBe('symbol');
    expect(s.fields.map((f) => [f.name, f.type])).toEqual([
      ['symbol', 'string'],
      ['price', 'float'],
      ['change', 'float'],
      ['volume', 'int'],
    ]);
    const p = (name: string) => s.fields.find((f) => f.name === name)!.changeProbability;
    expect(p('price')).toBe(1);
    expect(p('change')).toBeGreaterThan(0.9);
    expect(p('volume')).toBeGreaterThan(0.5);
    expect(Object.keys(payloadFor(s, 0, 0))).toEqual(Object.keys(GUIDE_STOCK_PRICE));
  });

  it('an unknown schema id is a ScenarioError naming the field and listing the known ids', () => {
    for (const bad of ['nope', '__proto__', 'toString', '', 'Stock-Price'])
      expectFieldError(() => getUpdateSchema(bad), 'schema', 'stock-price, sensor-reading');
  });

  it('a malformed schema is refused with the field named', () => {
    const s = getUpdateSchema('stock-price');
    const withField = (i: number, patch: object): UpdateSchema => ({
      ...s,
      fields: s.fields.map((f, j) => (j === i ? { ...f, ...patch } : f)),
    });
    expectFieldError(
      () => validateSchema(withField(1, { changeProbability: 1.5 })),
      'schema.stock-price.fields[1].changeProbability',
    );
    expectFieldError(
      () => validateSchema(withField(2, { name: 'price' })),
      'schema.stock-price.fields[2].name',
    );
    expectFieldError(
      () => validateSchema(withField(2, { short: 'p' })),
      'schema.stock-price.fields[2].short',
    );
    expectFieldError(
      () => validateSchema(withField(3, { type: 'bool' })),
      'schema.stock-price.fields[3].value',
    );
    expectFieldError(
      () => validateSchema(withField(0, { changeProbability: 0.5 })),
      'schema.stock-price.key',
    );
    expectFieldError(() => validateSchema({ ...s, key: 'ticker' }), 'schema.stock-price.key');
  });
});

describe('payloads', () => {
  it('version 0 changes every field; later versions never the key and always something', () => {
    for (const id of UPDATE_SCHEMA_IDS) {
      const s = getUpdateSchema(id);
      const full = (1 << s.fields.length) - 1;
      const keyBit = 1 << s.fields.findIndex((f) => f.name === s.key);
      for (let item = 0; item < 20; item++) {
        expect(changedMask(s, item, 0)).toBe(full);
        for (let v = 1; v < 100; v++) {
          const m = changedMask(s, item, v);
          expect(m & keyBit, `${id} item ${item} v${v}`).toBe(0);
          expect(m).toBeGreaterThan(0);
        }
      }
    }
  });

  it('a field keeps its value at every version that does not change it', () => {
    for (const id of UPDATE_SCHEMA_IDS) {
      const s = getUpdateSchema(id);
      let prev = payloadFor(s, 7, 0);
      for (let v = 1; v < 300; v++) {
        const next = payloadFor(s, 7, v);
        const m = changedMask(s, 7, v);
        s.fields.forEach((f, i) => {
          if ((m & (1 << i)) === 0)
            expect(next[f.name], `${id} ${f.name} v${v}`).toBe(prev[f.name]);
        });
        prev = next;
      }
    }
  });

  it('a delta from a version to itself is the key alone', () => {
    const s = getUpdateSchema('sensor-reading');
    expect(deltaFor(s, 3, 40, 40)).toEqual({ deviceId: 'sensor-00003' });
  });

  it('bad items and versions are ScenarioErrors naming them', () => {
    const s = getUpdateSchema('stock-price');
    expectFieldError(() => payloadFor(s, -1, 0), 'item');
    expectFieldError(() => payloadFor(s, 1.5, 0), 'item');
    expectFieldError(() => payloadFor(s, 0, Number.NaN), 'version');
    expectFieldError(() => deltaFor(s, 0, 5, 4), 'fromVersion');
  });
});

describe('updates.proto', () => {
  const proto = readFileSync(join(ENCODING_DIR, 'updates.proto'), 'utf8');

  it('proto-source.ts holds updates.proto byte for byte', () => {
    const regenerate =
      'updates.proto changed: run `npx tsx src/cli/calibrate-encoders.ts --proto` to rewrite proto-source.ts';
    expect(UPDATES_PROTO === proto, regenerate).toBe(true);
    expect(
      readFileSync(join(ENCODING_DIR, 'proto-source.ts'), 'utf8') === protoSourceText(proto),
      regenerate,
    ).toBe(true);
  });

  it('every schema has its message with the same fields in order, of fitting types, all but the key optional', () => {
    const fits: Record<string, string[]> = {
      string: ['string'],
      float: ['double'],
      int: ['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64'],
      bool: ['bool'],
      timestamp: ['int64', 'uint64'],
    };
    for (const id of UPDATE_SCHEMA_IDS) {
      const s = getUpdateSchema(id);
      const t = protoTypes(s);
      const fields = t.data.fieldsArray;
      expect(fields.map((f) => f.name)).toEqual(s.fields.map((f) => f.name));
      s.fields.forEach((f, i) => {
        expect(fits[f.type], `${id}.${f.name}: ${fields[i].type}`).toContain(fields[i].type);
        const optional = fields[i].options?.proto3_optional === true;
        expect(optional, `${id}.${f.name} optional`).toBe(f.name !== s.key);
      });
      expect(t.update.oneofs.data.fieldsArray.map((f) => f.name)).toContain(t.dataField);
    }
  });
});

describe('the guide’s object, exactly', () => {
  const s = getUpdateSchema('stock-price');
  const bytes = (e: (typeof PAYLOAD_ENCODINGS)[number]) =>
    objectCodec(s, e).encode({ ...GUIDE_STOCK_PRICE }).length;

  // These encodings are fully determined, so the sizes are counted by hand:
  it('JSON pretty is 79 bytes', () => {
    // "{\n" 2 + `  "symbol": "AAPL",\n` 20 + `  "price": 178.5,\n` 18 + `  "change": 2.3,\n` 17
    // + `  "volume": 45623190\n` 21 + "}" 1 = 79 (JSON.stringify prints 178.50 as 178.5).
    expect(bytes('json-pretty')).toBe(79);
  });
  it('JSON minified is 62 bytes, with short keys 43', () => {
    // {"symbol":"AAPL","price":178.5,"change":2.3,"volume":45623190}: 2 braces + 3 commas + 4 colons
    // + keys 8+7+8+8 + values 6+5+3+8 = 62; {"s":"AAPL","p":178.5,"c":2.3,"v":45623190}: 9 + 12 + 22 = 43.
    expect(bytes('json')).toBe(62);
    expect(bytes('json-short')).toBe(43);
  });
  it('MessagePack is 56 bytes', () => {
    // fixmap 1 + 4 fixstr keys (1+6, 1+5, 1+6, 1+6) 27 + fixstr "AAPL" 5 + two float64 9+9 + uint32 5 = 56.
    expect(bytes('msgpack')).toBe(56);
  });
  it('Protocol Buffers is 29 bytes', () => {
    // symbol: tag 1 + length 1 + 4; price, change: tag 1 + 8 each; volume: tag 1 + varint(45623190) 4 = 29.
    expect(bytes('protobuf')).toBe(29);
  });
});

describe('payload sizes against the guide', () => {
  const table = bytesPerUpdateTable('stock-price');
  const row = (e: string) => table.rows.find((r) => r.encoding === e)!;

  it('keeps the guide’s claims as data', () => {
    expect(GUIDE_PAYLOAD_CLAIMS.map((c) => [c.encoding, c.bytes, c.savingsPct])).toEqual([
      ['json-pretty', 200, 0],
      ['json-short', 120, 40],
      ['msgpack', 80, 60],
      ['protobuf', 50, 75],
    ]);
  });

  it(`measures every encoding: ${table.rows.map((r) => `${r.encoding} ${r.bytes} B (deflate ${r.deflateTakeoverBytes}/${r.deflateNoTakeoverBytes} B)`).join(', ')}`, () => {
    expect(table.rows.map((r) => r.encoding)).toEqual([...PAYLOAD_ENCODINGS]);
    for (const r of table.rows) {
      for (const n of [r.bytes, r.deflateTakeoverBytes, r.deflateNoTakeoverBytes])
        expect(Number.isInteger(n) && n > 0).toBe(true);
      expect(r.deflateTakeoverBytes).toBeLessThanOrEqual(r.deflateNoTakeoverBytes);
    }
    expect(row('protobuf').bytes).toBeLessThan(row('msgpack').bytes);
    expect(row('json-short').bytes).toBeLessThan(row('json').bytes);
    expect(row('json').guideObjectBytes).toBe(62);
    expect(
      bytesPerUpdateTable('sensor-reading').rows.every((r) => r.guideObjectBytes === null),
    ).toBe(true);
  });

  const rows = compareWithGuide();
  it(`guide says / measured / holds: ${rows.map((r) => `${r.label} ${r.savingsPct}% / ${r.measuredSavingsPct}% / ${r.holds ? 'yes' : 'no'}`).join(', ')}`, () => {
    expect(rows.map((r) => r.encoding)).toEqual(GUIDE_PAYLOAD_CLAIMS.map((c) => c.encoding));
    expect(rows[0].measuredBytes).toBe(79);
    for (const r of rows) expect(r.holds).toBe(r.measuredSavingsPct >= r.savingsPct - 5);
  });
});

describe('shape tables', () => {
  it('are deterministic: two computations give the same numbers', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const f of FORMATS)
        expect(snapshot(computeShapeTable(id, f)), `${id} ${label(f)}`).toEqual(
          snapshot(shapeTable(id, f)),
        );
  });

  it('messageBytes(fullMask) is the mean of really encoded full payloads', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const encoding of ENCODING_NAMES) {
        const s = getUpdateSchema(id);
        const codec = frameCodec(s, encoding);
        const t = shapeTable(id, { encoding, deflate: false, contextTakeover: false });
        const sample = shapeSample();
        let sum = 0;
        let entrySum = 0;
        for (const p of sample) {
          const data = payloadFor(s, p.item, p.version);
          sum += codec.encode({ type: 'update', seq: p.seq, data }).length;
          entrySum += codec.entryBytes({ seq: p.seq, data });
        }
        expect(t.messageBytes(t.fullMask), `${id} ${encoding}`).toBe(
          Math.round(sum / sample.length),
        );
        expect(t.entryBytes(t.fullMask), `${id} ${encoding}`).toBe(
          Math.round(entrySum / sample.length),
        );
      }
  });

  it('a delta with fewer fields is never larger, as a message or as an entry', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const encoding of ENCODING_NAMES) {
        const t = shapeTable(id, { encoding, deflate: false, contextTakeover: false });
        for (let m = 0; m <= t.fullMask; m++)
          for (let i = 0; i < t.fieldCount; i++) {
            const fewer = m & ~(1 << i);
            expect(t.messageBytes(fewer)).toBeLessThanOrEqual(t.messageBytes(m));
            expect(t.entryBytes(fewer)).toBeLessThanOrEqual(t.entryBytes(m));
          }
        expect(t.messageBytes(0)).toBeLessThan(t.messageBytes(t.fullMask));
      }
  });

  it('a batch frame is its overhead plus its entries (exact for JSON and MessagePack)', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const encoding of ENCODING_NAMES) {
        const s = getUpdateSchema(id);
        const codec = frameCodec(s, encoding);
        const t = shapeTable(id, { encoding, deflate: false, contextTakeover: false });
        for (const k of [1, 5, 20, 64]) {
          const updates = Array.from({ length: k }, (_, j) => ({
            seq: 100_000 + j,
            data: deltaFor(s, 300 + j, 9, 10),
          }));
          const frame: Frame = { type: 'batch', ts: 1_700_000_123_456, updates };
          const entries = updates.reduce((a, e) => a + codec.entryBytes(e), 0);
          const off = codec.encode(frame).length - (t.batchOverheadBytes(k) + entries);
          // protobuf: each entry's length prefix (1 or 2 bytes) and the batch's are in the overhead, as measured on other entries.
          if (encoding === 'protobuf')
            expect(Math.abs(off), `${id} k=${k}`).toBeLessThanOrEqual(2 + k / 8);
          else expect(off, `${id} ${encoding} k=${k}`).toBe(0);
        }
      }
  });

  it('a batch of k updates is smaller than k messages in JSON and MessagePack; in protobuf it saves nothing but WebSocket frames', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const encoding of ENCODING_NAMES) {
        const t = shapeTable(id, { encoding, deflate: false, contextTakeover: false });
        const m = t.fullMask;
        for (const k of [8, 16, 64, 200]) {
          const extra = t.batchOverheadBytes(k) + k * t.entryBytes(m) - k * t.messageBytes(m);
          // protobuf: an entry's tag + length is what a message's Frame tag + length was; the batch adds its ts.
          if (encoding === 'protobuf')
            expect(extra, `${id} k=${k}`).toBeLessThanOrEqual(t.batchOverheadBytes(0) + 3);
          // Pretty JSON indents a batch's entries two levels deeper than a message's data: batching grows it.
          else if (encoding === 'json-pretty') expect(extra, `${id} k=${k}`).toBeGreaterThan(0);
          else expect(extra, `${id} ${encoding} k=${k}`).toBeLessThan(0);
        }
      }
  });

  const stock = (encoding: EncodingName) =>
    shapeTable('stock-price', { encoding, deflate: false, contextTakeover: false });
  it(`protobuf is smaller than JSON for stock-price: ${stock('protobuf').messageBytes(15)} B vs ${stock('json').messageBytes(15)} B a message`, () => {
    expect(stock('protobuf').messageBytes(15)).toBeLessThan(stock('json').messageBytes(15));
    expect(stock('protobuf').entryBytes(15)).toBeLessThan(stock('msgpack').entryBytes(15));
    expect(stock('msgpack').messageBytes(15)).toBeLessThan(stock('json').messageBytes(15));
    expect(stock('json').messageBytes(15)).toBeLessThan(stock('json-pretty').messageBytes(15));
  });

  it('wireBytes is the identity without deflate and compresses with it, takeover more', () => {
    for (const id of UPDATE_SCHEMA_IDS)
      for (const encoding of ENCODING_NAMES) {
        const plain = shapeTable(id, { encoding, deflate: false, contextTakeover: false });
        const on = shapeTable(id, { encoding, deflate: true, contextTakeover: true });
        const off = shapeTable(id, { encoding, deflate: true, contextTakeover: false });
        const batch = 64 * plain.entryBytes(plain.fullMask) + plain.batchOverheadBytes(64);
        expect(plain.wireBytes(batch, 64)).toBe(batch);
        expect(plain.compressUs(batch)).toBe(0);
        expect(on.wireBytes(batch, 64)).toBeLessThan(batch);
        expect(on.wireBytes(batch, 64)).toBeLessThanOrEqual(off.wireBytes(batch, 64));
        if (encoding.startsWith('json')) expect(off.wireBytes(batch, 64)).toBeLessThan(batch / 2);
        const one = plain.messageBytes(plain.fullMask);
        expect(on.wireBytes(one, 1)).toBeLessThanOrEqual(off.wireBytes(one, 1));
        expect(on.compressUs(batch)).toBeGreaterThan(0);
        expect(on.encodeUs(batch)).toBe(plain.encodeUs(batch));
      }
  });

  it('wireBytes predicts a stream it was not measured on within 35%', () => {
    // Other items (200..223), later versions, other batch sizes: the model against real compression.
    for (const id of UPDATE_SCHEMA_IDS)
      for (const f of FORMATS.filter((x) => x.deflate)) {
        const s = getUpdateSchema(id);
        const codec = frameCodec(s, f.encoding);
        const t = shapeTable(id, f);
        for (const k of [1, 3, 16, 50]) {
          const compressor = createCompressor(f.contextTakeover);
          let predicted = 0;
          let actual = 0;
          let j = 0;
          for (let n = 0; n < 24; n++) {
            const updates = Array.from({ length: k }, () => {
              const item = 200 + (j % 24);
              const v = 40 + Math.floor(j++ / 24);
              return {
                seq: 500_000 + j,
                data: n % 2 === 0 ? payloadFor(s, item, v) : deltaFor(s, item, v - 1, v),
              };
            });
            const frame: Frame =
              k === 1
                ? { type: 'update', ...updates[0] }
                : { type: 'batch', ts: 1_700_000_000_000 + n, updates };
            const raw = codec.encode(frame);
            const wire = compressor.compress(raw).length;
            if (n < 8) continue;
            predicted += t.wireBytes(raw.length, k);
            actual += wire;
          }
          expect(
            Math.abs(predicted / actual - 1),
            `${id} ${label(f)} k=${k}: ${predicted} vs ${actual}`,
          ).toBeLessThan(0.35);
        }
      }
  });

  it('bad formats and ids are ScenarioErrors naming the field', () => {
    const ok: WireFormat = { encoding: 'json', deflate: false, contextTakeover: false };
    expectFieldError(() => shapeTable('nope', ok), 'schema', 'stock-price');
    expectFieldError(
      () => shapeTable('stock-price', { ...ok, encoding: 'xml' as EncodingName }),
      'encoding',
      'msgpack',
    );
    expectFieldError(
      () => shapeTable('stock-price', { ...ok, encoding: 'json-short' as EncodingName }),
      'encoding',
    );
    expectFieldError(
      () => shapeTable('stock-price', { ...ok, deflate: 'yes' as unknown as boolean }),
      'deflate',
    );
    expectFieldError(
      () => shapeTable('stock-price', { ...ok, contextTakeover: 1 as unknown as boolean }),
      'contextTakeover',
    );
    expectFieldError(() => shapeTable('stock-price', null as unknown as WireFormat), 'format');
    expectFieldError(
      () => frameCodec(getUpdateSchema('stock-price'), '__proto__' as EncodingName),
      'encoding',
    );
    expectFieldError(
      () => objectCodec(getUpdateSchema('stock-price'), 'yaml' as 'json'),
      'encoding',
    );
    expectFieldError(() => createCompressor('yes' as unknown as boolean), 'contextTakeover');
    expectFieldError(
      () =>
        frameCodec(getUpdateSchema('stock-price'), 'json').decode(
          new TextEncoder().encode('{"type":"x"}'),
        ),
      'frame',
    );
  });

  it('without deflate, takeover or not is the same table', () => {
    expect(
      shapeTable('stock-price', { encoding: 'json', deflate: false, contextTakeover: true }),
    ).toBe(shapeTable('stock-price', { encoding: 'json', deflate: false, contextTakeover: false }));
  });

  it('pickFields keeps schema order and the key', () => {
    const s = getUpdateSchema('stock-price');
    expect(Object.keys(pickFields(s, payloadFor(s, 1, 5), 0b1000))).toEqual(['symbol', 'volume']);
  });
});

describe('permessage-deflate', () => {
  it('every message zlib (as browsers and ws use) inflates too, with and without context takeover', () => {
    for (const contextTakeover of [true, false])
      for (const id of UPDATE_SCHEMA_IDS)
        for (const encoding of ENCODING_NAMES) {
          const s = getUpdateSchema(id);
          const codec = frameCodec(s, encoding);
          const compressor = createCompressor(contextTakeover);
          const decompressor = createDecompressor(contextTakeover);
          let history = Buffer.alloc(0);
          for (let n = 0; n < 30; n++) {
            const frame: Frame =
              n % 3 === 0
                ? { type: 'update', seq: n, data: payloadFor(s, n % 5, n) }
                : {
                    type: 'batch',
                    ts: 1_700_000_000_000 + n,
                    updates: [0, 1, 2, 3].map((i) => ({
                      seq: n * 4 + i,
                      data: deltaFor(s, i, n, n + 1),
                    })),
                  };
            const raw = Buffer.from(codec.encode(frame));
            const payload = compressor.compress(raw);
            const viaZlib = zlib.inflateRawSync(
              Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]),
              {
                finishFlush: zlib.constants.Z_SYNC_FLUSH,
                ...(contextTakeover && history.length > 0 ? { dictionary: history } : {}),
              },
            );
            expect(viaZlib.equals(raw), `${id} ${encoding} message ${n}`).toBe(true);
            expect(Buffer.from(decompressor.decompress(payload)).equals(raw)).toBe(true);
            if (contextTakeover) history = Buffer.concat([history, raw]).subarray(-32_768);
          }
        }
  });
});

/** Numbers the simulator takes from the module, computed through `m` only (it runs in a VM too). */
function figures(m: typeof encodingModule): number[] {
  const out: number[] = [];
  for (const id of m.UPDATE_SCHEMA_IDS) {
    for (const encoding of m.ENCODING_NAMES)
      for (const [deflate, contextTakeover] of [
        [false, false],
        [true, true],
        [true, false],
      ]) {
        const t = m.shapeTable(id, { encoding, deflate, contextTakeover });
        for (let mask = 0; mask <= t.fullMask; mask++)
          out.push(t.messageBytes(mask), t.entryBytes(mask));
        for (const k of [0, 1, 7, 64, 100]) out.push(t.batchOverheadBytes(k));
        for (const raw of [50, 500, 5_000])
          for (const n of [1, 3, 64]) out.push(t.wireBytes(raw, n));
      }
    for (const r of m.bytesPerUpdateTable(id).rows)
      out.push(r.bytes, r.deflateTakeoverBytes, r.deflateNoTakeoverBytes);
    const s = m.getUpdateSchema(id);
    const bytes = m
      .frameCodec(s, 'protobuf')
      .encode({ type: 'update', seq: 5, data: m.payloadFor(s, 3, 9) });
    out.push(...bytes, ...m.createCompressor(true).compress(bytes));
  }
  return out;
}

describe('in the browser', () => {
  it('a Vite bundle run without Buffer, process or require gives the same numbers as Node', async () => {
    const result = await build({
      configFile: false,
      publicDir: false,
      logLevel: 'silent',
      build: {
        write: false,
        minify: false,
        target: 'es2022',
        lib: { entry: join(ENCODING_DIR, 'index.ts'), formats: ['iife'], name: 'Encoding' },
      },
    });
    const output = (Array.isArray(result) ? result[0] : result) as Rolldown.RolldownOutput;
    const code = output.output[0].code;
    // No require() left outside comments (protobufjs's docs mention one).
    expect(code.replace(/\/\*[\s\S]*?\*\//g, '')).not.toMatch(/\brequire\(['"]/);
    // A bare context: ES globals plus the TextEncoder/TextDecoder every browser has.
    const context = vm.createContext({ TextEncoder, TextDecoder });
    vm.runInContext(code, context);
    expect(vm.runInContext('typeof Buffer + typeof process + typeof require', context)).toBe(
      'undefinedundefinedundefined',
    );
    const there = vm.runInContext(`(${figures.toString()})(Encoding)`, context) as number[];
    expect(JSON.stringify(there)).toBe(JSON.stringify(figures(encodingModule)));
  });
});

describe('CPU costs', () => {
  it(`come from a calibration (${CALIBRATION.machine}, Node ${CALIBRATION.node}, ${CALIBRATION.date})`, () => {
    expect(CALIBRATION.machine.length).toBeGreaterThan(0);
    expect(CALIBRATION.cores).toBeGreaterThan(0);
    for (const table of [ENCODE_COSTS, DECODE_COSTS])
      for (const e of ENCODING_NAMES)
        for (const v of [table[e].usPerMessage, table[e].usPerKB])
          expect(Number.isFinite(v) && v >= 0).toBe(true);
    for (const c of [DEFLATE_COSTS.takeover, DEFLATE_COSTS.noTakeover])
      expect(c.usPerMessage + c.usPerKB).toBeGreaterThan(0);
  });

  it('the calibration command refuses bad flags with the flag named', async () => {
    await expect(calibrateMain(['--nope'], () => {})).rejects.toMatchObject({ field: 'flags' });
    await expect(calibrateMain(['--rounds', 'x'], () => {})).rejects.toMatchObject({
      field: '--rounds',
    });
    await expect(calibrateMain(['--quick', '--write'], () => {})).rejects.toMatchObject({
      field: '--write',
    });
  });
});
