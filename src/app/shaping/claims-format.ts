// How the claims card writes the guide's figures and the measured ones: by unit, signed where the measure is a change, plus the rerun line.
import type { Claim } from '../../scenario/claims-schema.ts';
import type { Parameter } from '../../scenario/schema.ts';
import type { ClaimResult } from '../../sim/claims.ts';
import { formatMs } from '../format.ts';

/** A real minus sign: "−52%" reads as a number, "-52%" as a dash. */
const MINUS = '\u2212';

type Measure = Claim['measure'];

function signed(text: string, value: number, withSign: boolean): string {
  if (value < 0) return `${MINUS}${text}`;
  return withSign && value > 0 ? `+${text}` : text;
}

/** Changes and differences read with their sign (+52 ms, −48%); plain values do not. */
function isSigned(unit: string, measure: Measure): boolean {
  return unit === 'share' || measure === 'change' || measure === 'difference';
}

function trimmed(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * One figure in a claim's unit: `share` as a signed percentage (−0.52 → "−52%"), `x` as a
 * multiple ("4.5×"), `ms` through the lab's latency format, `B` as whole bytes.
 */
export function formatClaimValue(value: number | null, unit: string, measure: Measure): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const withSign = isSigned(unit, measure);
  const size = Math.abs(value);
  switch (unit) {
    case 'share': {
      const pct = size * 100;
      return signed(`${trimmed(pct, pct < 10 ? 1 : 0)}%`, value, true);
    }
    case 'x':
      return signed(`${trimmed(size, size < 10 ? 1 : 0)}×`, value, false);
    case 'ms':
      return signed(formatMs(size), value, withSign);
    case 'B':
      return signed(`${Math.round(size).toLocaleString('en-US')} B`, value, withSign);
    default: {
      const digits = size >= 100 ? 0 : size >= 10 ? 1 : 2;
      const text = trimmed(size, digits);
      return signed(unit ? `${text} ${unit}` : text, value, withSign);
    }
  }
}

/** A bound this far out stands for "no bound" (claims write "at least 10×" as 10 to 1e6). */
const OPEN_BOUND = 1e5;

/**
 * The guide's band: one figure for a point claim; "at least 10×" or "at most 5 s" for an open
 * one; "0–100 ms" for a range in one unit, "−5% to +100%" where signs would blur a dash.
 */
export function formatBand(
  guide: { min: number; max: number },
  unit: string,
  measure: Measure,
): string {
  const lo = formatClaimValue(guide.min, unit, measure);
  const hi = formatClaimValue(guide.max, unit, measure);
  if (guide.max === guide.min) return lo;
  if (Math.abs(guide.max) >= OPEN_BOUND) return `at least ${lo}`;
  if (Math.abs(guide.min) >= OPEN_BOUND) return `at most ${hi}`;
  const suffix = / ?[^\d.]+$/.exec(hi)?.[0] ?? '';
  if (unit !== 'share' && guide.min >= 0 && suffix && lo.endsWith(suffix))
    return `${lo.slice(0, -suffix.length)}–${hi}`;
  return `${lo} to ${hi}`;
}

/** How far outside the band still holds: "±5 pts" for shares (percentage points), else in the unit. */
export function formatTolerance(tolerance: number, unit: string): string {
  if (tolerance <= 0) return '';
  if (unit === 'share') return `±${trimmed(tolerance * 100, 1)} pts`;
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
