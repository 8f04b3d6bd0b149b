// Update schemas as data: the fields of each kind of real-time update, how their values are generated and how often each changes.
import { ScenarioError } from '../../../scenario/errors.ts';

export type FieldType = 'string' | 'float' | 'int' | 'bool' | 'timestamp';

/**
 * How a field's value is generated from (item, the version of its last change). Every draw is a
 * hash of (schema, field, item, version), so a value is a pure function of those (see payloads.ts).
 * Numbers are rounded to `decimals` by `Math.round(x·10^d) / 10^d`, which is the double nearest
 * the decimal, so JSON text, MessagePack float64 and protobuf `double` all carry it exactly.
 */
export type ValueSpec =
  /** A level per item in [min, max); each change lands within ±spread (a fraction) of it: prices, readings. */
  | { kind: 'level'; min: number; max: number; spread: number; decimals: number }
  /** Independent draws in [min, max): a day's change. */
  | { kind: 'uniform'; min: number; max: number; decimals: number }
  /**
   * Grows with the version v of the last change: start + an item offset in [0, startSpread) +
   * v·perVersion, plus less than one step of jitter (so it never decreases); with `wrap` it cycles
   * in [start, start + wrap), counting down instead of up with `countDown`. Volumes, counts, bids.
   */
  | {
      kind: 'counter';
      start: number;
      startSpread: number;
      perVersion: number;
      jitter: boolean;
      decimals: number;
      wrap?: number;
      countDown?: boolean;
    }
  /** Milliseconds since the epoch: startMs + an item offset + v·stepMs + jitter below half a step. */
  | { kind: 'clock'; startMs: number; stepMs: number }
  /** One of `values`; for the key field, values[item mod n], suffixed `-k` past the first n items. */
  | { kind: 'pick'; values: readonly string[] }
  /**
   * A string from a pattern: `{i}` or `{i:N}` the item index (zero-padded to N digits), `{d:N}` N
   * digits, `{a:N}` N lowercase letters and `{A:N}` N capitals drawn for this value.
   */
  | { kind: 'pattern'; pattern: string }
  /** Between min and max words drawn from `words`, joined by spaces: a chat line. */
  | { kind: 'words'; words: readonly string[]; min: number; max: number }
  | { kind: 'bool'; trueProbability: number }
  /** `MM:SS` left in a period of periodS seconds, stepS further on per version: a game clock. */
  | { kind: 'game-clock'; periodS: number; stepS: number };

export interface FieldSpec {
  /** The field's name in full-key JSON, MessagePack and (camelCased) protobuf. */
  readonly name: string;
  /** Its key in minified JSON with short keys (`json-short`). */
  readonly short: string;
  readonly type: FieldType;
  readonly value: ValueSpec;
  /**
   * The chance that one update changes this field (0..1). The key field carries 0: it is sent in
   * version 0 (the first snapshot, where every field counts as changed) and never changes after.
   */
  readonly changeProbability: number;
}

export interface UpdateSchema {
  readonly id: string;
  readonly title: string;
  /** The field that identifies the item (`symbol`); every message carries it. */
  readonly key: string;
  readonly fields: readonly FieldSpec[];
  /** Its message in updates.proto (package hoplab.updates). */
  readonly protoMessage: string;
}

/** Shape tables hold one entry per field mask (1 << fields), so a schema stays small. */
export const MAX_FIELDS = 8;

const TICKERS = [
  'AAPL',
  'MSFT',
  'GOOG',
  'AMZN',
  'NVDA',
  'META',
  'TSLA',
  'JPM',
  'V',
  'JNJ',
  'WMT',
  'PG',
  'MA',
  'UNH',
  'HD',
  'DIS',
  'BAC',
  'XOM',
  'KO',
  'PEP',
  'CSCO',
  'ORCL',
  'ADBE',
  'CRM',
  'NFLX',
  'INTC',
  'AMD',
  'QCOM',
  'TXN',
  'IBM',
  'NKE',
  'SBUX',
] as const;

const CHAT_WORDS = [
  'ok',
  'yes',
  'no',
  'the',
  'a',
  'is',
  'it',
  'on',
  'in',
  'to',
  'we',
  'you',
  'I',
  'deploy',
  'build',
  'review',
  'meeting',
  'lunch',
  'today',
  'tomorrow',
  'later',
  'now',
  'fixed',
  'broken',
  'again',
  'thanks',
  'great',
  'sounds',
  'good',
  'see',
  'link',
  'check',
  'this',
  'that',
  'ship',
  'merge',
  'test',
  'failing',
  'green',
  'done',
] as const;

const STOCK_PRICE: UpdateSchema = {
  id: 'stock-price',
  title: 'Stock price (the guide’s object)',
  key: 'symbol',
  protoMessage: 'StockPrice',
  fields: [
    {
      name: 'symbol',
      short: 's',
      type: 'string',
      value: { kind: 'pick', values: TICKERS },
      changeProbability: 0,
    },
    {
      name: 'price',
      short: 'p',
      type: 'float',
      value: { kind: 'level', min: 20, max: 900, spread: 0.02, decimals: 2 },
      changeProbability: 1,
    },
    {
      name: 'change',
      short: 'c',
      type: 'float',
      value: { kind: 'uniform', min: -5, max: 5, decimals: 2 },
      changeProbability: 0.95,
    },
    {
      name: 'volume',
      short: 'v',
      type: 'int',
      value: {
        kind: 'counter',
        start: 1_000_000,
        startSpread: 80_000_000,
        perVersion: 1_500,
        jitter: true,
        decimals: 0,
      },
      changeProbability: 0.7,
    },
  ],
};

/** Readings every 5 s start mid-November 2023 (ms since the epoch). */
const EPOCH_MS = 1_700_000_000_000;

const SENSOR_READING: UpdateSchema = {
  id: 'sensor-reading',
  title: 'IoT sensor reading (the guide’s IoT object)',
  key: 'deviceId',
  protoMessage: 'SensorReading',
  fields: [
    {
      name: 'deviceId',
      short: 'd',
      type: 'string',
      value: { kind: 'pattern', pattern: 'sensor-{i:5}' },
      changeProbability: 0,
    },
    {
      name: 'temperature',
      short: 't',
      type: 'float',
      value: { kind: 'level', min: 15, max: 30, spread: 0.03, decimals: 1 },
      changeProbability: 0.5,
    },
    {
      name: 'humidity',
      short: 'h',
      type: 'float',
      value: { kind: 'level', min: 30, max: 70, spread: 0.05, decimals: 1 },
      changeProbability: 0.4,
    },
    {
      name: 'pressure',
      short: 'p',
      type: 'float',
      value: { kind: 'level', min: 990, max: 1030, spread: 0.002, decimals: 2 },
      changeProbability: 0.3,
    },
    {
      name: 'timestamp',
      short: 'ts',
      type: 'timestamp',
      value: { kind: 'clock', startMs: EPOCH_MS, stepMs: 5_000 },
      changeProbability: 1,
    },
    {
      // A sensor is installed somewhere and stays there: never in a delta.
      name: 'location',
      short: 'l',
      type: 'string',
      value: {
        kind: 'pick',
        values: [
          'warehouse-a/aisle-3',
          'warehouse-a/dock',
          'warehouse-b/cold-room',
          'office/floor-2',
          'roof/north',
        ],
      },
      changeProbability: 0,
    },
  ],
};

const SCORE_UPDATE: UpdateSchema = {
  id: 'score-update',
  title: 'Live sports score',
  key: 'gameId',
  protoMessage: 'ScoreUpdate',
  fields: [
    {
      name: 'gameId',
      short: 'g',
      type: 'string',
      value: { kind: 'pattern', pattern: 'game-{i:6}' },
      changeProbability: 0,
    },
    {
      name: 'home',
      short: 'h',
      type: 'int',
      value: {
        kind: 'counter',
        start: 0,
        startSpread: 0,
        perVersion: 0.35,
        jitter: false,
        decimals: 0,
      },
      changeProbability: 0.15,
    },
    {
      name: 'away',
      short: 'a',
      type: 'int',
      value: {
        kind: 'counter',
        start: 0,
        startSpread: 0,
        perVersion: 0.33,
        jitter: false,
        decimals: 0,
      },
      changeProbability: 0.15,
    },
    {
      name: 'clock',
      short: 'c',
      type: 'string',
      value: { kind: 'game-clock', periodS: 720, stepS: 7 },
      changeProbability: 0.9,
    },
    {
      name: 'period',
      short: 'p',
      type: 'int',
      value: {
        kind: 'counter',
        start: 1,
        startSpread: 0,
        perVersion: 0.01,
        jitter: false,
        decimals: 0,
        wrap: 4,
      },
      changeProbability: 0.02,
    },
    {
      name: 'lastEvent',
      short: 'e',
      type: 'string',
      value: {
        kind: 'pick',
        values: [
          'Field goal',
          'Three pointer',
          'Free throw',
          'Foul',
          'Timeout',
          'Turnover',
          'Rebound',
          'Substitution',
        ],
      },
      changeProbability: 0.5,
    },
  ],
};

const CHAT_MESSAGE: UpdateSchema = {
  id: 'chat-message',
  title: 'Chat message',
  // A chat update is a new message in a channel: the channel is the item, every message a new id.
  key: 'channel',
  protoMessage: 'ChatMessage',
  fields: [
    {
      name: 'id',
      short: 'i',
      type: 'int',
      value: {
        kind: 'counter',
        start: 48_000_000,
        startSpread: 1_000_000,
        perVersion: 37,
        jitter: true,
        decimals: 0,
      },
      changeProbability: 1,
    },
    {
      name: 'channel',
      short: 'ch',
      type: 'string',
      value: { kind: 'pattern', pattern: 'room-{i}' },
      changeProbability: 0,
    },
    {
      name: 'sender',
      short: 'u',
      type: 'string',
      value: {
        kind: 'pick',
        values: [
          'alice',
          'bob',
          'carol',
          'dave',
          'erin',
          'frank',
          'grace',
          'heidi',
          'ivan',
          'judy',
        ],
      },
      changeProbability: 0.8,
    },
    {
      name: 'text',
      short: 't',
      type: 'string',
      value: { kind: 'words', words: CHAT_WORDS, min: 2, max: 16 },
      changeProbability: 1,
    },
    {
      name: 'sentAt',
      short: 'ts',
      type: 'timestamp',
      value: { kind: 'clock', startMs: EPOCH_MS, stepMs: 4_000 },
      changeProbability: 1,
    },
  ],
};

const BID_UPDATE: UpdateSchema = {
  id: 'bid-update',
  title: 'Auction bid',
  key: 'auctionId',
  protoMessage: 'BidUpdate',
  fields: [
    {
      name: 'auctionId',
      short: 'a',
      type: 'string',
      value: { kind: 'pattern', pattern: 'auc-{i:7}' },
      changeProbability: 0,
    },
    {
      name: 'currentBid',
      short: 'b',
      type: 'float',
      value: {
        kind: 'counter',
        start: 10,
        startSpread: 490,
        perVersion: 2.5,
        jitter: true,
        decimals: 2,
      },
      changeProbability: 1,
    },
    // Bidders are shown masked (first letter, stars, last letter, a digit), as auction sites do.
    {
      name: 'bidder',
      short: 'u',
      type: 'string',
      value: { kind: 'pattern', pattern: '{a:1}***{a:1}{d:1}' },
      changeProbability: 0.9,
    },
    {
      name: 'bidCount',
      short: 'n',
      type: 'int',
      value: {
        kind: 'counter',
        start: 0,
        startSpread: 0,
        perVersion: 1,
        jitter: false,
        decimals: 0,
      },
      changeProbability: 1,
    },
    {
      name: 'timeRemaining',
      short: 'r',
      type: 'int',
      value: {
        kind: 'counter',
        start: 0,
        startSpread: 604_800,
        perVersion: 45,
        jitter: true,
        decimals: 0,
        wrap: 604_800,
        countDown: true,
      },
      changeProbability: 1,
    },
    {
      name: 'timestamp',
      short: 'ts',
      type: 'timestamp',
      value: { kind: 'clock', startMs: EPOCH_MS, stepMs: 45_000 },
      changeProbability: 1,
    },
  ],
};

const PRESENCE_UPDATE: UpdateSchema = {
  id: 'presence-update',
  title: 'User presence (online, typing)',
  key: 'userId',
  protoMessage: 'PresenceUpdate',
  fields: [
    {
      name: 'userId',
      short: 'u',
      type: 'string',
      value: { kind: 'pattern', pattern: 'user-{i:6}' },
      changeProbability: 0,
    },
    {
      name: 'status',
      short: 's',
      type: 'string',
      value: { kind: 'pick', values: ['online', 'away', 'busy', 'offline'] },
      changeProbability: 0.3,
    },
    {
      name: 'typing',
      short: 't',
      type: 'bool',
      value: { kind: 'bool', trueProbability: 0.3 },
      changeProbability: 0.6,
    },
    {
      name: 'lastSeen',
      short: 'l',
      type: 'timestamp',
      value: { kind: 'clock', startMs: EPOCH_MS, stepMs: 15_000 },
      changeProbability: 1,
    },
  ],
};

const SCHEMAS: readonly UpdateSchema[] = [
  STOCK_PRICE,
  SENSOR_READING,
  SCORE_UPDATE,
  CHAT_MESSAGE,
  BID_UPDATE,
  PRESENCE_UPDATE,
];

/** The ids of the shipped schemas, in the order the lab lists them. */
export const UPDATE_SCHEMA_IDS: readonly string[] = SCHEMAS.map((s) => s.id);

/** The shipped schemas by id; a null-prototype object, so `__proto__` or `toString` is not an id. */
const BY_ID = Object.create(null) as Record<string, UpdateSchema>;
for (const s of SCHEMAS) BY_ID[s.id] = s;

export function listUpdateSchemas(): readonly UpdateSchema[] {
  return SCHEMAS;
}

export function getUpdateSchema(id: string): UpdateSchema {
  const schema = typeof id === 'string' && Object.hasOwn(BY_ID, id) ? BY_ID[id] : undefined;
  if (schema === undefined)
    throw new ScenarioError(
      'schema',
      `unknown update schema ${JSON.stringify(id)}; known: ${UPDATE_SCHEMA_IDS.join(', ')}`,
    );
  return schema;
}

const TYPE_KINDS: Record<FieldType, readonly ValueSpec['kind'][]> = {
  string: ['pick', 'pattern', 'words', 'game-clock'],
  float: ['level', 'uniform', 'counter'],
  int: ['level', 'uniform', 'counter'],
  bool: ['bool'],
  timestamp: ['clock'],
};

/**
 * Checks a schema's data: unique names and short keys, a key field generated from the item, change
 * probabilities in [0, 1], value specs that fit the field's type. Throws a field-named ScenarioError.
 */
export function validateSchema(schema: UpdateSchema): void {
  const at = `schema.${schema.id}`;
  const fields = schema.fields;
  if (fields.length === 0 || fields.length > MAX_FIELDS)
    throw new ScenarioError(
      `${at}.fields`,
      `needs 1 to ${MAX_FIELDS} fields, has ${fields.length}`,
    );
  const names = new Set<string>();
  const shorts = new Set<string>();
  fields.forEach((f, i) => {
    const here = `${at}.fields[${i}]`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(f.name))
      throw new ScenarioError(`${here}.name`, `must be camelCase, is ${JSON.stringify(f.name)}`);
    if (names.has(f.name) || ['type', 'seq', 'data', 'ts', 'updates'].includes(f.name))
      throw new ScenarioError(
        `${here}.name`,
        `${f.name} is taken (by another field or the envelope)`,
      );
    if (f.short === '' || shorts.has(f.short))
      throw new ScenarioError(
        `${here}.short`,
        `must be unique and non-empty, is ${JSON.stringify(f.short)}`,
      );
    names.add(f.name);
    shorts.add(f.short);
    const p = f.changeProbability;
    if (!(p >= 0 && p <= 1))
      throw new ScenarioError(`${here}.changeProbability`, `must be in [0, 1], is ${p}`);
    if (!TYPE_KINDS[f.type]?.includes(f.value.kind))
      throw new ScenarioError(
        `${here}.value`,
        `a ${f.type} field cannot be generated by ${f.value.kind}`,
      );
    const v = f.value;
    if ((v.kind === 'level' || v.kind === 'uniform') && !(v.max > v.min))
      throw new ScenarioError(`${here}.value`, `needs max > min`);
    if (
      (v.kind === 'level' || v.kind === 'uniform' || v.kind === 'counter') &&
      !(Number.isInteger(v.decimals) && v.decimals >= 0 && v.decimals <= 6)
    )
      throw new ScenarioError(`${here}.value.decimals`, `must be an integer in [0, 6]`);
    if ((f.type === 'int' || f.type === 'timestamp') && 'decimals' in v && v.decimals !== 0)
      throw new ScenarioError(`${here}.value.decimals`, `an ${f.type} field has 0 decimals`);
    if (v.kind === 'counter' && v.wrap !== undefined && !(v.wrap > 0))
      throw new ScenarioError(`${here}.value.wrap`, `must be > 0`);
    if (
      (v.kind === 'pick' || v.kind === 'words') &&
      ('values' in v ? v.values : v.words).length === 0
    )
      throw new ScenarioError(`${here}.value`, `needs at least one value`);
    if (v.kind === 'words' && !(Number.isInteger(v.min) && v.min >= 1 && v.max >= v.min))
      throw new ScenarioError(`${here}.value`, `needs 1 ≤ min ≤ max words`);
  });
  const key = fields.find((f) => f.name === schema.key);
  if (key === undefined)
    throw new ScenarioError(`${at}.key`, `${schema.key} is not one of its fields`);
  if (key.type !== 'string' || (key.value.kind !== 'pick' && key.value.kind !== 'pattern'))
    throw new ScenarioError(
      `${at}.key`,
      `the key must be a string picked or patterned from the item`,
    );
  if (key.changeProbability !== 0)
    throw new ScenarioError(`${at}.key`, `the key never changes (changeProbability 0)`);
  if (!fields.some((f) => f !== key && f.changeProbability > 0))
    throw new ScenarioError(`${at}.fields`, `needs a field besides the key that can change`);
}

for (const s of SCHEMAS) validateSchema(s);
