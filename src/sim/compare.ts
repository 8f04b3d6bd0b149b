// Comparisons on one seed: the arms (protocol=all, several scenarios, or parameter overrides), the metrics, the noise seeds and the tie rule.
import { ScenarioError } from '../scenario/errors.ts';
import { resolveRun, type RunSpec } from '../scenario/resolve.ts';
import { PROTOCOLS, type Protocol } from '../scenario/schema.ts';
import { ARM_NAME_PATTERN, type OverrideArm } from '../scenario/url.ts';
import { Rng } from './rng.ts';
import { createSimulation, type Simulation } from './simulation.ts';
import type { RunResult } from './types.ts';

/** One arm of a comparison: what to call it, the run it is, and what it changes. */
export interface Arm {
  label: string;
  run: RunSpec;
  /** The parameters this arm sets on top of the comparison's own (`{protocol}` for a protocol arm). */
  overrides: Record<string, number | string>;
}

/** Fewest and most arms in a comparison: one arm is a plain run; past six the table stops reading. */
export const MIN_ARMS = 2;
export const MAX_ARMS = 6;

/** Extra seeds every arm also runs on to measure the run-to-run noise, by default and at most. */
export const DEFAULT_NOISE_SEEDS = 3;
export const MAX_NOISE_SEEDS = 10;

/**
 * Expands a run into the arms it stands for: a protocol scenario set to `all` becomes one arm per
 * protocol, on the same seed and workload; anything else is a single arm.
 */
export function armsOf(run: RunSpec): Arm[] {
  const scenario = run.scenario;
  if (scenario.model !== 'protocols' || scenario.workload.protocol !== 'all')
    return [{ label: scenario.id, run, overrides: {} }];
  const param = scenario.parameters.find((p) => p.path === 'workload.protocol');
  return PROTOCOLS.map((protocol: Protocol) => ({
    label: protocol,
    overrides: { [param?.name ?? 'protocol']: protocol },
    run: {
      ...run,
      params: { ...run.params, protocol },
      scenario: { ...scenario, workload: { ...scenario.workload, protocol } },
    },
  }));
}

/** The message of a ScenarioError without its `field: ` prefix. */
function bare(error: ScenarioError): string {
  const prefix = `${error.field}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/** Names, count and uniqueness of override arms; `field` is the input at fault (`--arm`, `ab`). */
function checkArmNames(arms: readonly OverrideArm[], field: string): void {
  if (arms.length < MIN_ARMS || arms.length > MAX_ARMS)
    throw new ScenarioError(field, `compare ${MIN_ARMS} to ${MAX_ARMS} arms, got ${arms.length}`);
  const seen = new Set<string>();
  for (const { name } of arms) {
    if (!ARM_NAME_PATTERN.test(name))
      throw new ScenarioError(
        field,
        `arm name ${JSON.stringify(name.slice(0, 40))} must be 1–24 of a-z, 0-9 and -`,
      );
    if (seen.has(name)) throw new ScenarioError(field, `arm ${name} is listed twice`);
    seen.add(name);
  }
}

/** One override arm's run, validated like `--set`; errors name the arm and the parameter. */
function armRun(base: RunSpec, arm: OverrideArm): RunSpec {
  let run: RunSpec;
  try {
    run = resolveRun(base.scenario, { ...base.params, ...arm.overrides }, base.seed);
  } catch (error) {
    if (error instanceof ScenarioError)
      throw new ScenarioError(`arm ${arm.name}: ${error.field}`, bare(error));
    throw error;
  }
  if (armsOf(run).length > 1)
    throw new ScenarioError(
      `arm ${arm.name}: protocol`,
      'is all; give each arm one protocol (protocol=all already compares them)',
    );
  return run;
}

/**
 * The arms of an A/B comparison: each arm's overrides on top of the base run's parameters, on the
 * base run's scenario, seed and fault schedule. Throws ScenarioError naming the arm and parameter
 * (`arm b: batchWindowMs: must be in [0, 1000] ms, got -5`).
 */
export function armsFromOverrides(
  base: RunSpec,
  arms: readonly OverrideArm[],
  field = 'arms',
): Arm[] {
  checkArmNames(arms, field);
  return arms.map((arm) => {
    const run = armRun(base, arm);
    // The overrides as the run reads them: typed (500, not "500"), in the order given.
    const overrides = Object.fromEntries(Object.keys(arm.overrides).map((k) => [k, run.params[k]]));
    return { label: arm.name, overrides, run };
  });
}

/** The same arm on another seed (a noise run): everything else, faults included, is kept. */
export function onSeed(run: RunSpec, seed: number): RunSpec {
  return { ...run, seed };
}

/** `count` extra seeds derived from the main one (never equal to it or to each other). */
export function noiseSeeds(seed: number, count: number): number[] {
  const rng = new Rng(seed, 'compare/noise');
  const seeds: number[] = [];
  while (seeds.length < count) {
    const next = 1 + rng.int(999_999);
    if (next !== seed && !seeds.includes(next)) seeds.push(next);
  }
  return seeds;
}

export async function createArms(arms: Arm[]): Promise<Simulation[]> {
  return Promise.all(arms.map((a) => createSimulation(a.run)));
}

// ——— metrics ———

/** Which way a figure is better; `none` for properties (yes/no) that no side wins. */
export type Better = 'lower' | 'higher' | 'none';

/** One run's figure: a number, a yes/no, null when not measured yet, undefined when it has none. */
export type Figure = number | boolean | null;

/** A figure compared across arms, as data: the shells render any list of these. */
export interface Metric {
  key: string;
  label: string;
  unit: string;
  better: Better;
  of: (r: RunResult) => Figure | undefined;
}

const metric = (
  key: string,
  label: string,
  unit: string,
  better: Better,
  of: Metric['of'],
): Metric => ({ key, label, unit, better, of });

/** A latency figure: null before the first delivery (not a zero). */
const latency = (pick: (l: RunResult['latencyMs']) => number) => (r: RunResult) =>
  r.delivered > 0 ? pick(r.latencyMs) : null;

const hop1BytesPerSec = (r: RunResult): number =>
  r.links.filter((l) => l.hop === 'hop1').reduce((sum, l) => sum + l.bytesPerSec, 0);

const serverCpuMax = (r: RunResult): number | undefined =>
  r.servers.length ? Math.max(...r.servers.map((s) => s.cpuUtilisation)) : undefined;

/** The guide's protocol decision matrix: every row measured from the runs. */
export const MATRIX_METRICS: readonly Metric[] = [
  metric('latencyP50', 'Latency p50', 'ms', 'lower', (r) => r.latencyMs.p50),
  metric('latencyP99', 'Latency p99', 'ms', 'lower', (r) => r.latencyMs.p99),
  metric('bidirectional', 'Bidirectional', '', 'none', (r) => r.protocolStats?.bidirectional),
  metric('requestsPerDelivered', 'Requests per update', '', 'lower', (r) => r.requestsPerDelivered),
  metric('wasted', 'Wasted requests', 'share', 'lower', (r) => r.wastedRequestShare),
  metric('bytes', 'Bytes on the wire per update', 'B', 'lower', (r) => r.wireBytesPerDelivered),
  metric(
    'connections',
    'Open server connections (peak)',
    '',
    'lower',
    (r) => r.serverConnectionsPeak,
  ),
  metric('memory', 'Server memory', 'MB', 'lower', (r) => r.serverMemoryMB),
  metric('cpu', 'Server CPU', 'share', 'lower', (r) => r.protocolStats?.serverCpuUtilisation),
  metric('battery', 'Battery per client', 'mAh/h', 'lower', (r) => r.batteryMahPerHour),
  metric('reach', 'Delivered ÷ owed', 'share', 'higher', (r) =>
    r.fanout > 0 ? r.delivered / Math.max(1, r.fanout - r.inFlight) : 1,
  ),
];

/** What every run has (and `lost` for fleets): the rows of every comparison's differences. */
const GENERAL_METRICS: readonly Metric[] = [
  metric(
    'latencyP50',
    'Latency p50',
    'ms',
    'lower',
    latency((l) => l.p50),
  ),
  metric(
    'latencyP99',
    'Latency p99',
    'ms',
    'lower',
    latency((l) => l.p99),
  ),
  metric(
    'latencyMax',
    'Latency max',
    'ms',
    'lower',
    latency((l) => l.max),
  ),
  metric('delivered', 'Delivered', '', 'higher', (r) => r.delivered),
  metric('dropped', 'Dropped', '', 'lower', (r) => r.dropped),
  metric('lost', 'Lost', '', 'lower', (r) => r.lost),
  metric('hop1BytesPerSec', 'Bytes/s on hop 1', 'B/s', 'lower', hop1BytesPerSec),
  metric('deliveriesPerSec', 'Deliveries/s', '/s', 'higher', (r) => r.deliveriesPerSec),
  metric('serverCpuMax', 'Server CPU max', 'share', 'lower', serverCpuMax),
];

/** Shaped runs: what the stages trade against each other (bandwidth, messages, staleness, CPU). */
const SHAPING_METRICS: readonly Metric[] = [
  metric(
    'messagesPerSecPerUser',
    'Frames/s per user',
    '/s',
    'lower',
    (r) => r.shaping?.messagesPerSecPerUser,
  ),
  metric(
    'bytesPerSecPerUser',
    'Bytes/s per user',
    'B/s',
    'lower',
    (r) => r.shaping?.bytesPerSecPerUser,
  ),
  metric('bytesPerUpdate', 'Bytes per update', 'B', 'lower', (r) => r.shaping?.bytesPerUpdate),
  metric('stalenessP50', 'Staleness p50', 'ms', 'lower', (r) => r.shaping?.staleness?.p50Ms),
  metric('stalenessP99', 'Staleness p99', 'ms', 'lower', (r) => r.shaping?.staleness?.p99Ms),
  metric('serverCpuUs', 'Server CPU (all servers)', 'µs', 'lower', (r) => r.shaping?.serverCpuUs),
  metric('resyncs', 'Resyncs', '', 'lower', (r) => r.shaping?.resyncs),
];

/** A number at `path` inside a case study's part of the result (undefined elsewhere). */
function caseFigure(r: RunResult, ...path: string[]): number | null | undefined {
  let v: unknown = r;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !(k in v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'number' ? v : v === null ? null : undefined;
}

/** Case studies: what their arms trade (lost bids per control, the herd per cache setting). */
const CASE_METRICS: readonly Metric[] = [
  metric('lostUpdates', 'Lost bids', '', 'lower', (r) => caseFigure(r, 'bids', 'lostUpdates')),
  metric('bidRetries', 'Bid retries', '', 'lower', (r) => caseFigure(r, 'bids', 'retries')),
  metric('bidsGaveUp', 'Bids given up', '', 'lower', (r) => caseFigure(r, 'bids', 'gaveUp')),
  metric('bidProcessingP99', 'Bid processing p99', 'ms', 'lower', (r) =>
    caseFigure(r, 'bids', 'processingMs', 'p99'),
  ),
  metric('timerErrorP99', 'Countdown error p99', 'ms', 'lower', (r) =>
    caseFigure(r, 'timerErrorMs', 'p99'),
  ),
  metric('scoreBroadcastP99', 'Score to screen p99', 'ms', 'lower', (r) =>
    caseFigure(r, 'scoreBroadcastMs', 'p99'),
  ),
  metric('scoreBackwards', 'Score went back (naive client)', '', 'lower', (r) =>
    caseFigure(r, 'scoreWentBackwards', 'fromAnyMessage'),
  ),
  metric('redisHitRate', 'Redis hit rate', 'share', 'higher', (r) =>
    caseFigure(r, 'cache', 'redis', 'hitRate'),
  ),
  metric('dbQueries', 'Database queries', '', 'lower', (r) =>
    caseFigure(r, 'cache', 'database', 'queries'),
  ),
  metric('dbPeakPerSec', 'Database queries, worst second', '/s', 'lower', (r) =>
    caseFigure(r, 'cache', 'database', 'peakPerSec'),
  ),
];

/** A matrix row only for protocol runs (elsewhere, e.g. `reach`, it would mean something else). */
const protocolOnly = (m: Metric): Metric => ({
  ...m,
  of: (r) => (r.protocolStats ? m.of(r) : undefined),
});

/** The differences table's rows: the general figures, then the decision matrix's (protocol runs). */
export const DIFFERENCE_METRICS: readonly Metric[] = [
  ...GENERAL_METRICS,
  ...SHAPING_METRICS,
  ...CASE_METRICS,
  ...MATRIX_METRICS.filter((m) => !GENERAL_METRICS.some((g) => g.key === m.key)).map(protocolOnly),
];

/** One run's figures by metric key (what a noise run sends back instead of its whole result). */
export type FigureSet = Record<string, Figure | undefined>;

export function figuresOf(
  r: RunResult,
  metrics: readonly Metric[] = DIFFERENCE_METRICS,
): FigureSet {
  const out: FigureSet = {};
  for (const m of metrics) out[m.key] = m.of(r);
  return out;
}

/** A row of the measured decision matrix: one figure for every arm, and how to read it. */
export interface MatrixRow {
  key: string;
  label: string;
  unit: string;
  /** Lower is better (latency, bytes), higher is better, or neither (a yes/no property). */
  better: Better;
  values: (number | boolean | null)[];
}

/** The guide's protocol decision matrix, measured: every figure comes from the runs. */
export function decisionMatrix(results: RunResult[]): MatrixRow[] {
  return MATRIX_METRICS.map(({ key, label, unit, better, of }) => ({
    key,
    label,
    unit,
    better,
    values: results.map((r) => of(r) ?? null),
  }));
}

// ——— the tie rule ———

/** The lowest and highest value of one arm's figure over its seeds (main + noise). */
export type Spread = readonly [min: number, max: number];

/** How a metric came out across the arms. */
export interface Verdict {
  /** `win`: some arms are better beyond the noise; `none`: the metric has no better side. */
  outcome: 'win' | 'tie' | 'none' | 'missing';
  /** The arms that win (several when they tie with each other ahead of the rest). */
  winners: number[];
  /**
   * `equal`: the values are equal; `overlap`: the spreads overlap; `outside-noise`: disjoint
   * spreads; `exact`: decided on the values alone (no noise estimate); `no-direction`; `missing`.
   */
  why: 'equal' | 'overlap' | 'outside-noise' | 'exact' | 'no-direction' | 'missing';
}

const isNumber = (v: Figure | undefined): v is number =>
  typeof v === 'number' && Number.isFinite(v);

function overlaps(a: Spread, b: Spread): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/**
 * The arms whose spreads connect to `start`'s through overlapping spreads (the union of
 * overlapping ranges is one range, so overlapping it means overlapping one of them).
 */
function linked(
  start: number,
  others: readonly number[],
  spreadOf: (i: number) => Spread,
): number[] {
  const group = [start];
  let [lo, hi] = spreadOf(start);
  for (let grew = true; grew;) {
    grew = false;
    for (const i of others) {
      const [a, b] = spreadOf(i);
      if (group.includes(i) || !overlaps([a, b], [lo, hi])) continue;
      group.push(i);
      [lo, hi] = [Math.min(lo, a), Math.max(hi, b)];
      grew = true;
    }
  }
  return others.filter((i) => group.includes(i));
}

/**
 * The one rule for "better": a difference is a win only when it is outside the run-to-run noise.
 * Each arm's spread is min..max of its value over every seed (just the value without a noise
 * estimate). The arm with the best value (lower or higher, by `better`) leads together with every
 * arm whose spread overlaps the leaders' (so each leader's spread is clear of every other arm's);
 * when that is every measured arm, it is a tie. Without spreads only equal values tie; `none`
 * metrics never win.
 */
export function judge(
  values: readonly Figure[],
  spreads: readonly (Spread | null)[] | null,
  better: Better,
): Verdict {
  if (better === 'none') return { outcome: 'none', winners: [], why: 'no-direction' };
  const measured = values.flatMap((v, i) => (isNumber(v) ? [i] : []));
  if (measured.length < 2) return { outcome: 'missing', winners: [], why: 'missing' };
  const num = (i: number) => values[i] as number;
  const target = (better === 'lower' ? Math.min : Math.max)(...measured.map(num));
  const best = measured.find((i) => num(i) === target)!;
  const spreadOf = (i: number): Spread => spreads?.[i] ?? [num(i), num(i)];
  const leaders = linked(best, measured, spreadOf);
  if (leaders.length < measured.length)
    return { outcome: 'win', winners: leaders, why: spreads ? 'outside-noise' : 'exact' };
  const allEqual = measured.every((i) => num(i) === target);
  return { outcome: 'tie', winners: [], why: allEqual ? 'equal' : 'overlap' };
}

/** One metric across the arms: the main-seed values, the spreads over every seed, the verdict. */
export interface Difference {
  key: string;
  label: string;
  unit: string;
  better: Better;
  values: Figure[];
  /** Per arm, min..max over the main and noise seeds; null without a noise estimate. */
  spreads: (Spread | null)[] | null;
  verdict: Verdict;
}

function spreadAcross(values: readonly (Figure | undefined)[]): Spread | null {
  const nums = values.filter(isNumber);
  return nums.length ? [Math.min(...nums), Math.max(...nums)] : null;
}

/**
 * The differences table: one row per metric present in some arm. `main` holds each arm's figures
 * on the main seed, `noise` each arm's figures on the noise seeds (null: no noise estimate).
 */
export function differences(
  main: readonly FigureSet[],
  noise: readonly (readonly FigureSet[])[] | null,
  metrics: readonly Metric[] = DIFFERENCE_METRICS,
): Difference[] {
  const rows = metrics.filter((m) => main.some((f) => f[m.key] !== undefined));
  return rows.map(({ key, label, unit, better }) => {
    const values = main.map((f) => f[key] ?? null);
    const spreads = noise
      ? main.map((f, i) => spreadAcross([f[key], ...(noise[i] ?? []).map((n) => n[key])]))
      : null;
    return { key, label, unit, better, values, spreads, verdict: judge(values, spreads, better) };
  });
}

/** "a", "a and b", "a, b and c". */
function listed(names: readonly string[]): string {
  return names.length < 2
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** "34.08–34.21 ms" rather than "34.08 ms–34.21 ms" when both ends share the unit. */
export function rangeText(low: string, high: string): string {
  if (low === high) return low;
  const unit = /[^\d.,]*$/.exec(low)?.[0] ?? '';
  return unit && high.endsWith(unit) && /\d$/.test(low.slice(0, -unit.length))
    ? `${low.slice(0, -unit.length)}–${high}`
    : `${low}–${high}`;
}

/**
 * Why a row came out as it did, in words, with the shell's own number format
 * (`format(value, unit)`): "b lower, outside the noise (b 31.2–31.9 ms; a 33.0–34.1 ms)".
 */
export function explain(
  d: Difference,
  names: readonly string[],
  format: (value: number, unit: string) => string,
): string {
  const { verdict, spreads } = d;
  const value = (i: number) => d.values[i] as number;
  const range = (i: number) => {
    const s = spreads?.[i] ?? [value(i), value(i)];
    return rangeText(format(s[0], d.unit), format(s[1], d.unit));
  };
  const ranges = (idx: readonly number[]) => idx.map((i) => `${names[i]} ${range(i)}`).join(', ');
  const measured = d.values.flatMap((v, i) => (isNumber(v) ? [i] : []));
  const steady = measured.every((i) => range(i) === format(value(measured[0]), d.unit));
  switch (verdict.why) {
    case 'no-direction':
      return 'a property, not a score: no side is better';
    case 'missing':
      return 'measured in fewer than two arms';
    case 'equal':
      if (!spreads) return `equal (${format(value(measured[0]), d.unit)})`;
      return steady
        ? `equal on every seed (${format(value(measured[0]), d.unit)})`
        : `equal on the main seed; over all seeds ${ranges(measured)}`;
    case 'overlap':
      return `within the noise: the spreads overlap (${ranges(measured)})`;
  }
  const winners = verdict.winners;
  const rest = measured.filter((i) => !winners.includes(i));
  const level = winners.length > 1 ? ' (level with each other)' : '';
  const side = `${listed(winners.map((i) => names[i]))} ${d.better}${level}`;
  if (verdict.why === 'exact')
    return `${side} (${ranges(measured)}); no noise estimate, so any difference counts`;
  return `${side}, outside the noise (${ranges(winners)}; ${ranges(rest)})`;
}
