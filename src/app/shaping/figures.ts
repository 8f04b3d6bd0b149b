// The shaping panel's figures, arranged for display: what each stage saved (by unit), the priority classes and bytes per update per encoding.
import type { Claim } from '../../scenario/claims-schema.ts';
import type { PriorityClassStats, ShapingStats } from '../../sim/types.ts';

/** What a stage's saving counts: the units differ, so each kind gets its own scale. */
export type SavedUnit = 'deliveries' | 'frames' | 'bytes';

const SAVED: Record<string, { label: string; unit: SavedUnit; stage: string }> = {
  selective: { label: 'Selective broadcast', unit: 'deliveries', stage: 'selective' },
  throttle: { label: 'Throttle', unit: 'deliveries', stage: 'throttle' },
  conflation: { label: 'Conflation', unit: 'deliveries', stage: 'conflation' },
  batching: { label: 'Batching', unit: 'frames', stage: 'batching' },
  deltaBytes: { label: 'Delta updates', unit: 'bytes', stage: 'delta' },
  deflateBytes: { label: 'permessage-deflate', unit: 'bytes', stage: 'compression' },
};

const UNIT_TITLE: Record<SavedUnit, string> = {
  deliveries: 'Deliveries not made',
  frames: 'Frames not sent',
  bytes: 'Bytes not sent',
};

export interface SavedItem {
  key: string;
  label: string;
  value: number;
  /** The bar's length: value ÷ the largest value of its group (0..1). */
  share: number;
}

export interface SavedGroup {
  unit: SavedUnit;
  title: string;
  items: SavedItem[];
  /**
   * Of what would have gone without the stage(s): saved ÷ (saved + sent), with sent = updates
   * sent (deliveries) or frames sent (frames). Null for bytes: hop-1 bytes include framing no
   * stage removes, so a share would mislead.
   */
  shareOfTotal: number | null;
}

/**
 * What each stage saved, grouped by unit. A stage shows when it saved something or is switched
 * on (a stage on that saved nothing is worth seeing); the others are left out.
 */
export function savedGroups(
  stats: Pick<ShapingStats, 'savedByStage' | 'stages' | 'updatesSent' | 'framesSent'>,
): SavedGroup[] {
  const on = new Set(stats.stages);
  const groups = new Map<SavedUnit, SavedItem[]>();
  for (const [key, value] of Object.entries(stats.savedByStage)) {
    const known = SAVED[key];
    const unit: SavedUnit = known?.unit ?? (/bytes$/i.test(key) ? 'bytes' : 'deliveries');
    if (!(value > 0) && !(known && on.has(known.stage))) continue;
    const list = groups.get(unit) ?? [];
    list.push({ key, label: known?.label ?? key, value, share: 0 });
    groups.set(unit, list);
  }
  const out: SavedGroup[] = [];
  for (const unit of ['deliveries', 'frames', 'bytes'] as const) {
    const items = groups.get(unit);
    if (!items) continue;
    const top = Math.max(...items.map((i) => i.value));
    for (const i of items) i.share = top > 0 ? i.value / top : 0;
    const saved = items.reduce((s, i) => s + i.value, 0);
    const sent =
      unit === 'deliveries' ? stats.updatesSent : unit === 'frames' ? stats.framesSent : NaN;
    out.push({
      unit,
      title: UNIT_TITLE[unit],
      items,
      shareOfTotal: Number.isFinite(sent) && saved + sent > 0 ? saved / (saved + sent) : null,
    });
  }
  return out;
}

export interface ClassRow {
  name: 'P0' | 'P1' | 'P2' | 'P3';
  stats: PriorityClassStats;
  /** The class's share of the updates, from the scenario's mix (null when unknown). */
  mixShare: number | null;
  /** Figures present; `none` delivered nothing though it is in the mix; `absent` is not in it. */
  state: 'measured' | 'none' | 'absent';
}

/** The priority classes in order, each with why it may have no figures. */
export function classRows(
  perClass: NonNullable<ShapingStats['perClass']>,
  classMix: Partial<Record<string, number>> | null,
): ClassRow[] {
  return (['P0', 'P1', 'P2', 'P3'] as const).map((name) => {
    const stats = perClass[name];
    const mixShare = classMix?.[name] ?? null;
    const state =
      stats.p50Ms !== null
        ? 'measured'
        : mixShare !== null && mixShare <= 0
          ? 'absent'
          : ('none' as const);
    return { name, stats, mixShare, state };
  });
}

/** The encodings in the order the guide lists them; unknown ones follow, by name. */
const FORMATS: { format: string; label: string }[] = [
  { format: 'json-pretty', label: 'JSON, pretty' },
  { format: 'json', label: 'JSON, minified' },
  { format: 'json-short', label: 'JSON, short keys' },
  { format: 'msgpack', label: 'MessagePack' },
  { format: 'protobuf', label: 'Protocol Buffers' },
];

export interface EncodingRow {
  format: string;
  label: string;
  /** One update of this run's schema, bare, in bytes (null when the run did not measure it). */
  bytes: number | null;
  /** After permessage-deflate with context takeover, and without it. */
  deflateBytes: number | null;
  deflateNoTakeoverBytes: number | null;
  /** The guide's exact object in this encoding (stock-price only). */
  guideObjectBytes: number | null;
  /** The guide's own figure for this encoding, from a scenario's claims. */
  guideClaim: { min: number; max: number; claim: string } | null;
  /** The encoding this run uses. */
  inUse: boolean;
}

/** Splits `msgpack-deflate-no-takeover` into its encoding and what was applied to it. */
function parseKey(key: string): {
  format: string;
  kind: 'bare' | 'deflate' | 'noTakeover' | 'guide';
} {
  if (key.startsWith('guide-')) return { format: key.slice(6), kind: 'guide' };
  if (key.endsWith('-deflate-no-takeover'))
    return { format: key.slice(0, -'-deflate-no-takeover'.length), kind: 'noTakeover' };
  if (key.endsWith('-deflate'))
    return { format: key.slice(0, -'-deflate'.length), kind: 'deflate' };
  return { format: key, kind: 'bare' };
}

/**
 * The guide's per-encoding sizes, read from claims whose metric is one update's bytes
 * (`bytesPerUpdate.guide-msgpack`): the figure it claims for that encoding.
 */
export function guideSizes(
  claims: readonly Claim[],
): Map<string, { min: number; max: number; claim: string }> {
  const out = new Map<string, { min: number; max: number; claim: string }>();
  for (const c of claims) {
    if (c.measure !== 'value' || !c.metric.startsWith('bytesPerUpdate.')) continue;
    const { format } = parseKey(c.metric.slice('bytesPerUpdate.'.length));
    out.set(format, { min: c.guide.min, max: c.guide.max, claim: c.claim });
  }
  return out;
}

/** One row per encoding of the run's `bytesPerUpdate`, with the guide's figure beside it. */
export function encodingRows(
  bytesPerUpdate: Readonly<Record<string, number>>,
  guide: ReadonlyMap<string, { min: number; max: number; claim: string }>,
  inUse: string,
): EncodingRow[] {
  const rows = new Map<string, EncodingRow>();
  const labelOf = (f: string) => FORMATS.find((k) => k.format === f)?.label ?? f;
  for (const [key, value] of Object.entries(bytesPerUpdate)) {
    const { format, kind } = parseKey(key);
    const row = rows.get(format) ?? {
      format,
      label: labelOf(format),
      bytes: null,
      deflateBytes: null,
      deflateNoTakeoverBytes: null,
      guideObjectBytes: null,
      guideClaim: guide.get(format) ?? null,
      inUse: format === inUse,
    };
    if (kind === 'bare') row.bytes = value;
    else if (kind === 'deflate') row.deflateBytes = value;
    else if (kind === 'noTakeover') row.deflateNoTakeoverBytes = value;
    else row.guideObjectBytes = value;
    rows.set(format, row);
  }
  const order = (f: string) => {
    const i = FORMATS.findIndex((k) => k.format === f);
    return i < 0 ? FORMATS.length : i;
  };
  return [...rows.values()]
    .filter((r) => r.bytes !== null || r.guideObjectBytes !== null)
    .sort((a, b) => order(a.format) - order(b.format) || a.format.localeCompare(b.format));
}

/** The largest figure the encoding bars must fit (bytes or the guide's claim). */
export function encodingScaleMax(rows: readonly EncodingRow[]): number {
  let top = 0;
  for (const r of rows)
    top = Math.max(top, r.bytes ?? 0, r.guideObjectBytes ?? 0, r.guideClaim?.max ?? 0);
  return top;
}
