// How the claims card writes the guide's figures and the measured ones: by unit, signed where the measure is a change, plus the rerun line.
import type { Claim } from '../../scenario/claims-schema.ts';
import type { Parameter } from '../../scenario/schema.ts';
import type { ClaimResult } from '../../sim/claims.ts';
import { formatMs } from '../format.ts';

/** A real minus sign: "−52%" reads as a number, "-52%" as a dash. */
const MINUS = '\u2212';

type Measure = Claim['measure'];

/** The guide's band of a claim: what a figure's precision follows. */
export type GuideBand = Readonly<{ min: number; max: number }>;

function signed(text: string, value: number, withSign: boolean): string {
  if (value < 0) return `${MINUS}${text}`;
  return withSign && value > 0 ? `+${text}` : text;
}

/** Changes and differences read with their sign (+52 ms, −48%); plain values do not. */
function isSigned(measure: Measure): boolean {
  return measure === 'change' || measure === 'difference';
}

function trimmed(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}

/** The fewest decimals (at most `max`) that write a figure exactly: 99.5 → 1, 95 → 0. */
function decimalsOf(value: number, max: number): number {
  for (let d = 0; d < max; d++)
    if (Math.abs(Number(value.toFixed(d)) - value) <= 1e-9 * Math.max(1, Math.abs(value))) return d;
  return max;
}

/** A bound this far out stands for "no bound" (claims write "at least 10×" as 10 to 1e6). */
const OPEN_BOUND = 1e5;

/** Most decimals a percentage gets: enough for the guide's "99.5%", "99.95%". */
const MAX_PERCENT_DECIMALS = 2;

/**
 * Decimals for a share as a percentage: one below 10%, none above; at least as many as the
 * guide's own figure has (so "99.5%" is not written "100%", and the measured figure beside it
 * has the same precision); and never rounded onto 0% or 100% when it is not that.
 */
function percentDecimals(pct: number, guide?: GuideBand): number {
  let digits = pct < 10 ? 1 : 0;
  for (const bound of guide ? [guide.min, guide.max] : [])
    if (Number.isFinite(bound) && Math.abs(bound) < OPEN_BOUND)
      digits = Math.max(digits, decimalsOf(Math.abs(bound) * 100, MAX_PERCENT_DECIMALS));
  while (digits < MAX_PERCENT_DECIMALS) {
    const shown = Number(pct.toFixed(digits));
    if ((shown === 100 && pct !== 100) || (shown === 0 && pct !== 0)) digits++;
    else break;
  }
  return digits;
}

/** A percentage at `digits` decimals, kept off 0 and 100 unless it is exactly that (99.996 → "99.99"). */
function percentText(pct: number, digits: number): string {
  const step = 10 ** -digits;
  const shown = Number(pct.toFixed(digits));
  if (shown >= 100 && pct < 100) return trimmed(100 - step, digits);
  if (shown === 0 && pct > 0) return trimmed(step, digits);
  return trimmed(pct, digits);
}

/** Drops a latency's padding zeros ("50.0 ms" → "50 ms", "1.00 s" → "1 s"), as the guide writes it. */
function withoutPadding(text: string): string {
  return text.replace(/(\.\d*?)0+(?=\D*$)/, '$1').replace(/\.(?=\D*$)/, '');
}

/**
 * One figure in a claim's unit: `share` as a percentage (−0.52 → "−52%"), `x` as a multiple
 * ("4.5×"), `ms` through the lab's latency format, `B` as whole bytes, `count` as a plain
 * number with thousands separators ("100,000"), any other unit after the number. Changes and
 * differences carry their sign. With the claim's `guide` band, a share keeps at least the
 * guide's precision (the guide's "−99.5%" and a measured "−98.1%").
 */
export function formatClaimValue(
  value: number | null,
  unit: string,
  measure: Measure,
  guide?: GuideBand,
): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const withSign = isSigned(measure);
  const size = Math.abs(value);
  switch (unit) {
    case 'share': {
      const pct = size * 100;
      return signed(`${percentText(pct, percentDecimals(pct, guide))}%`, value, withSign);
    }
    case 'x':
      return signed(`${trimmed(size, size < 10 ? 1 : 0)}×`, value, false);
    case 'ms':
      return signed(formatMs(size), value, withSign);
    case 'B': {
      // Sizes of a payload stay in bytes; a filter's or a store's read in kB/MB ("12 MB").
      if (size < 10_000)
        return signed(`${Math.round(size).toLocaleString('en-US')} B`, value, withSign);
      const [scaled, name] =
        size >= 1e9 ? [size / 1e9, 'GB'] : size >= 1e6 ? [size / 1e6, 'MB'] : [size / 1e3, 'kB'];
      return signed(`${trimmed(scaled, 2)} ${name}`, value, withSign);
    }
    default: {
      const digits = size >= 100 ? 0 : size >= 10 ? 1 : 2;
      const text = size.toLocaleString('en-US', { maximumFractionDigits: digits });
      // A count is a bare number: "100,000", not "100000 count".
      return signed(unit && unit !== 'count' ? `${text} ${unit}` : text, value, withSign);
    }
  }
}

/** One of the guide's own figures: its precision, and no padding zeros ("+50 ms", "1 s"). */
function formatGuideValue(value: number, unit: string, measure: Measure, guide: GuideBand): string {
  const text = formatClaimValue(value, unit, measure, guide);
  return unit === 'ms' ? withoutPadding(text) : text;
}

/**
 * The guide's band: one figure for a point claim; "at least 10×" or "at most 5 s" for an open
 * one; "0–100 ms" for a range in one unit, "0 to +10 ms" or "−5% to +100%" where signs would
 * blur a dash.
 */
export function formatBand(guide: GuideBand, unit: string, measure: Measure): string {
  const lo = formatGuideValue(guide.min, unit, measure, guide);
  const hi = formatGuideValue(guide.max, unit, measure, guide);
  if (guide.max === guide.min) return lo;
  if (Math.abs(guide.max) >= OPEN_BOUND) return `at least ${lo}`;
  if (Math.abs(guide.min) >= OPEN_BOUND) return `at most ${hi}`;
  const suffix = / ?[^\d.]+$/.exec(hi)?.[0] ?? '';
  if (unit !== 'share' && guide.min >= 0 && suffix && lo.endsWith(suffix)) {
    const bare = lo.slice(0, -suffix.length);
    return /^[+\u2212]/.test(hi) ? `${bare} to ${hi}` : `${bare}–${hi}`;
  }
  return `${lo} to ${hi}`;
}

/** How far outside the band still holds: "±5 pts" for shares (percentage points), else in the unit. */
export function formatTolerance(tolerance: number, unit: string): string {
  if (tolerance <= 0) return '';
  if (unit === 'share') {
    const points = trimmed(tolerance * 100, 1);
    return `±${points} ${points === '1' ? 'pt' : 'pts'}`;
  }
  if (unit === 'ms') return `±${trimmed(tolerance, 2)} ms`;
  return `±${formatClaimValue(tolerance, unit, 'value')}`;
}

/** The verdict chip's words. */
export function verdictText(verdict: ClaimResult['verdict']): string {
  return verdict === 'holds'
    ? 'holds'
    : verdict === 'does-not-hold'
      ? 'does not hold'
      : 'not measured';
}

/** What one of a claim's runs was: the baseline or the run measured, and its own overrides. */
export function runName(run: ClaimResult['runs'][number], result: ClaimResult): string {
  const overrides = Object.entries(run.overrides)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const role = result.runs.length > 1 && run === result.runs[0] ? 'baseline' : 'measured';
  return overrides ? `${role} (${overrides})` : `${role} (your settings)`;
}

/**
 * The command that reruns one of a claim's runs: the reader's settings with the claim's own
 * overrides on top (evaluateClaims runs exactly that), naming only values off their defaults.
 */
export function rerunCommand(
  scenarioId: string,
  seed: number,
  parameters: readonly Parameter[],
  params: Readonly<Record<string, number | string>>,
  overrides: Readonly<Record<string, number | string>>,
): string {
  const merged: Record<string, number | string> = { ...params, ...overrides };
  const sets = parameters
    .filter((p) => merged[p.name] !== undefined && String(merged[p.name]) !== String(p.default))
    .map((p) => ` --set ${p.name}=${merged[p.name]}`)
    .join('');
  return `npm run hoplab -- run ${scenarioId} --seed ${seed}${sets}`;
}

/**
 * How many runs a check takes: one per distinct set of overrides (the reader's settings under
 * each claim's `with` and `base`), as evaluateClaims counts them; the page shows "run 1 of N"
 * before the worker's first report.
 */
export function claimRunCount(
  claims: readonly Claim[],
  params: Readonly<Record<string, number | string>>,
): number {
  const keyOf = (o: Record<string, number | string>) => JSON.stringify(Object.entries(o).sort());
  const keys = new Set<string>();
  for (const c of claims) {
    keys.add(keyOf({ ...params, ...c.with }));
    if (c.base) keys.add(keyOf({ ...params, ...c.base }));
  }
  return keys.size;
}

/** Splits prose on `backticks` into text and code pieces, so names such as `cpuPerSendUs` read as code. */
export function codeSpans(text: string): { code: boolean; text: string }[] {
  return text
    .split('`')
    .map((piece, i) => ({ code: i % 2 === 1, text: piece }))
    .filter((p) => p.text !== '');
}
