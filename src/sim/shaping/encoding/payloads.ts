// Deterministic payloads: each item's state after each version, which fields each update changed, and deltas between versions.
import { ScenarioError } from '../../../scenario/errors.ts';
import { hashString } from '../../rng.ts';
import type { UpdateSchema, ValueSpec } from './schemas.ts';

export type FieldValue = string | number | boolean;
/** One update's data: the key field plus the fields it carries, in schema order. */
export type UpdateData = Record<string, FieldValue>;

/** Items and versions are indices into hashes: non-negative 31-bit integers. */
export const MAX_INDEX = 0x7fff_ffff;

const TWO_POW_32 = 4_294_967_296;
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

type Token = string | { t: 'i'; width: number } | { t: 'd' | 'a' | 'A'; n: number };

/** A schema with its per-field hash seeds and thresholds worked out once. */
interface Compiled {
  readonly fieldCount: number;
  readonly fullMask: number;
  readonly keyIndex: number;
  /** The field marked changed when an update's draws change nothing: the likeliest to change. */
  readonly forcedIndex: number;
  readonly changeSeed: Uint32Array;
  readonly valueSeed: Uint32Array;
  readonly baseSeed: Uint32Array;
  /** changeProbability × 2^32: a draw below it is a change (2^32 always, 0 never). */
  readonly threshold: Float64Array;
  readonly tokens: (Token[] | null)[];
}

const COMPILED = new WeakMap<UpdateSchema, Compiled>();

function compile(schema: UpdateSchema): Compiled {
  let c = COMPILED.get(schema);
  if (c !== undefined) return c;
  const n = schema.fields.length;
  const keyIndex = schema.fields.findIndex((f) => f.name === schema.key);
  if (keyIndex < 0)
    throw new ScenarioError('schema', `${schema.id}: key ${schema.key} is not a field`);
  let forcedIndex = -1;
  const changeSeed = new Uint32Array(n);
  const valueSeed = new Uint32Array(n);
  const baseSeed = new Uint32Array(n);
  const threshold = new Float64Array(n);
  schema.fields.forEach((f, i) => {
    changeSeed[i] = hashString(`${schema.id}/${f.name}/change`);
    valueSeed[i] = hashString(`${schema.id}/${f.name}/value`);
    baseSeed[i] = hashString(`${schema.id}/${f.name}/base`);
    threshold[i] = i === keyIndex ? 0 : f.changeProbability * TWO_POW_32;
    if (i !== keyIndex && (forcedIndex < 0 || threshold[i] > threshold[forcedIndex]))
      forcedIndex = i;
  });
  const tokens = schema.fields.map((f) =>
    f.value.kind === 'pattern' ? parsePattern(f.value.pattern) : null,
  );
  c = {
    fieldCount: n,
    fullMask: (1 << n) - 1,
    keyIndex,
    forcedIndex,
    changeSeed,
    valueSeed,
    baseSeed,
    threshold,
    tokens,
  };
  COMPILED.set(schema, c);
  return c;
}

function parsePattern(pattern: string): Token[] {
  const out: Token[] = [];
  const re = /\{([idaA])(?::(\d+))?\}/g;
  let last = 0;
  for (let m = re.exec(pattern); m !== null; m = re.exec(pattern)) {
    if (m.index > last) out.push(pattern.slice(last, m.index));
    const width = m[2] === undefined ? (m[1] === 'i' ? 0 : 1) : Number(m[2]);
    out.push(m[1] === 'i' ? { t: 'i', width } : { t: m[1] as 'd' | 'a' | 'A', n: width });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) out.push(pattern.slice(last));
  return out;
}

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of (seed, a, b): the only source of "randomness" here. */
function hash3(seed: number, a: number, b: number): number {
  const h = fmix(seed ^ Math.imul(a, 0x9e3779b1));
  return fmix(h ^ Math.imul((b + 0x7f4a7c15) | 0, 0x85ebca77));
}

/** The k-th further draw from a value's hash (patterns and word lists need several). */
function draw(h: number, k: number): number {
  return fmix((h + Math.imul(k + 1, 0x9e3779b9)) | 0);
}

function unit(h: number): number {
  return h / TWO_POW_32;
}

/** x rounded to d decimals as the double nearest the decimal; −0 becomes 0 (JSON has no −0). */
function roundTo(x: number, d: number): number {
  const f = POW10[d];
  return Math.round(x * f) / f + 0;
}

function checkIndex(field: string, x: number): void {
  if (!Number.isInteger(x) || x < 0 || x > MAX_INDEX)
    throw new ScenarioError(field, `must be an integer in [0, ${MAX_INDEX}], is ${String(x)}`);
}

function changedMaskOf(c: Compiled, item: number, version: number): number {
  if (version === 0) return c.fullMask;
  let mask = 0;
  for (let i = 0; i < c.fieldCount; i++) {
    const t = c.threshold[i];
    if (t >= TWO_POW_32 || (t > 0 && hash3(c.changeSeed[i], item, version) < t)) mask |= 1 << i;
  }
  // An update that changes nothing is not sent; the draw that would say so changes the likeliest field.
  return mask === 0 ? 1 << c.forcedIndex : mask;
}

/** The last version ≤ `version` at which field i changed (0: the first snapshot). */
function lastChange(c: Compiled, i: number, item: number, version: number): number {
  if (i === c.keyIndex) return 0;
  const t = c.threshold[i];
  if (t >= TWO_POW_32) return version;
  if (t === 0 && i !== c.forcedIndex) return 0;
  const bit = 1 << i;
  for (let u = version; u > 0; u--) if ((changedMaskOf(c, item, u) & bit) !== 0) return u;
  return 0;
}

function valueOf(
  schema: UpdateSchema,
  c: Compiled,
  i: number,
  item: number,
  u: number,
): FieldValue {
  const spec: ValueSpec = schema.fields[i].value;
  const h = hash3(c.valueSeed[i], item, u);
  const base = unit(hash3(c.baseSeed[i], item, 0));
  switch (spec.kind) {
    case 'level': {
      const level = spec.min + base * (spec.max - spec.min);
      return roundTo(level * (1 + spec.spread * (2 * unit(h) - 1)), spec.decimals);
    }
    case 'uniform':
      return roundTo(spec.min + unit(h) * (spec.max - spec.min), spec.decimals);
    case 'counter': {
      let x =
        base * spec.startSpread +
        u * spec.perVersion +
        (spec.jitter ? unit(h) * spec.perVersion : 0);
      if (spec.wrap !== undefined) {
        x -= Math.floor(x / spec.wrap) * spec.wrap;
        if (spec.countDown === true) x = spec.wrap - x;
      }
      const v = spec.start + x;
      return spec.decimals === 0 ? Math.floor(v) : roundTo(v, spec.decimals);
    }
    case 'clock':
      return (
        spec.startMs +
        Math.floor(base * spec.stepMs) +
        u * spec.stepMs +
        Math.floor(unit(h) * spec.stepMs * 0.5)
      );
    case 'pick': {
      const n = spec.values.length;
      if (i === c.keyIndex)
        return item < n ? spec.values[item] : `${spec.values[item % n]}-${Math.floor(item / n)}`;
      return spec.values[Math.floor(unit(h) * n)];
    }
    case 'pattern': {
      let s = '';
      const tokens = c.tokens[i] as Token[];
      for (let k = 0; k < tokens.length; k++) {
        const tok = tokens[k];
        if (typeof tok === 'string') s += tok;
        else if (tok.t === 'i') s += String(item).padStart(tok.width, '0');
        else
          for (let j = 0; j < tok.n; j++) {
            const r = unit(draw(h, k * 16 + j));
            if (tok.t === 'd') s += String(Math.floor(r * 10));
            else s += String.fromCharCode((tok.t === 'a' ? 97 : 65) + Math.floor(r * 26));
          }
      }
      return s;
    }
    case 'words': {
      const count = spec.min + Math.floor(unit(h) * (spec.max - spec.min + 1));
      let s = '';
      for (let j = 0; j < count; j++) {
        const w = spec.words[Math.floor(unit(draw(h, j)) * spec.words.length)];
        s = j === 0 ? w : `${s} ${w}`;
      }
      return s;
    }
    case 'bool':
      return unit(h) < spec.trueProbability;
    case 'game-clock': {
      const elapsed = (Math.floor(base * spec.periodS) + u * spec.stepS) % spec.periodS;
      const left = spec.periodS - elapsed;
      const mm = Math.floor(left / 60);
      const ss = left % 60;
      return `${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}`;
    }
  }
}

/** All fields set: the bits of a full-state update. */
export function fullMaskOf(schema: UpdateSchema): number {
  return compile(schema).fullMask;
}

/** The bit of the key field (every message carries it). */
export function keyBitOf(schema: UpdateSchema): number {
  return 1 << compile(schema).keyIndex;
}

/**
 * Which fields update `version` of `item` changed: bit i is fields[i]. Version 0 (the first
 * snapshot) changes all; later versions never change the key and always change at least one field.
 * Allocation-free, so models may call it per update.
 */
export function changedMask(schema: UpdateSchema, item: number, version: number): number {
  checkIndex('item', item);
  checkIndex('version', version);
  return changedMaskOf(compile(schema), item, version);
}

/**
 * The full state of `item` after `version` updates. A field's value is a function of (item, field,
 * the last version ≤ `version` at which changedMask says it changed), so it changes exactly then.
 */
export function payloadFor(schema: UpdateSchema, item: number, version: number): UpdateData {
  return fieldsAt(schema, item, version, compile(schema).fullMask);
}

/** The key plus the fields in `mask`, valued as at `version` (a delta's shape for any mask). */
export function fieldsAt(
  schema: UpdateSchema,
  item: number,
  version: number,
  mask: number,
): UpdateData {
  checkIndex('item', item);
  checkIndex('version', version);
  const c = compile(schema);
  const out: UpdateData = {};
  const m = mask | (1 << c.keyIndex);
  for (let i = 0; i < c.fieldCount; i++)
    if ((m & (1 << i)) !== 0)
      out[schema.fields[i].name] = valueOf(schema, c, i, item, lastChange(c, i, item, version));
  return out;
}

/** Bits of the fields that changed in (fromVersion, toVersion] (the key's bit excluded). */
export function changedBetween(
  schema: UpdateSchema,
  item: number,
  fromVersion: number,
  toVersion: number,
): number {
  checkIndex('item', item);
  checkIndex('fromVersion', fromVersion);
  checkIndex('toVersion', toVersion);
  if (fromVersion > toVersion)
    throw new ScenarioError('fromVersion', `must be ≤ toVersion (${toVersion}), is ${fromVersion}`);
  const c = compile(schema);
  let mask = 0;
  for (let i = 0; i < c.fieldCount; i++)
    if (i !== c.keyIndex && lastChange(c, i, item, toVersion) > fromVersion) mask |= 1 << i;
  return mask;
}

/** The key plus only the fields that changed in (fromVersion, toVersion], valued at toVersion. */
export function deltaFor(
  schema: UpdateSchema,
  item: number,
  fromVersion: number,
  toVersion: number,
): UpdateData {
  return fieldsAt(schema, item, toVersion, changedBetween(schema, item, fromVersion, toVersion));
}

/** A delta applied to the state it was taken from: absent fields are unchanged. */
export function applyDelta(state: UpdateData, delta: UpdateData): UpdateData {
  return { ...state, ...delta };
}

/** The mask of the fields an update's data carries. */
export function maskOfData(schema: UpdateSchema, data: UpdateData): number {
  let mask = 0;
  schema.fields.forEach((f, i) => {
    if (Object.hasOwn(data, f.name)) mask |= 1 << i;
  });
  return mask;
}
