// Which arms of a comparison run: the protocol `arms` choice (e.g. "sse,websocket") or A/B override arms, for the URL and the worker.
import { ScenarioError } from '../scenario/errors.ts';
import type { RunSpec } from '../scenario/resolve.ts';
import type { OverrideArm } from '../scenario/url.ts';
import { armsFromOverrides, armsOf, MAX_NOISE_SEEDS, MIN_ARMS, type Arm } from '../sim/compare.ts';

/** Fewest arms a comparison may keep: one arm is the normal single-run view. */
export { MIN_ARMS };

/** True when the run expands into several arms (today: a protocol scenario set to `all`). */
export function isComparison(run: RunSpec): boolean {
  // Asks the core rather than repeating its rule, so new kinds of arms show up here unchanged.
  return armsOf(run).length >= MIN_ARMS;
}

/** The labels a comparison run can keep, in the core's order. */
export function armLabels(run: RunSpec): string[] {
  return armsOf(run).map((a) => a.label);
}

/**
 * Reads the `arms` text ("sse,websocket"): a comma-separated subset of the run's arm labels, at
 * least two, each once. Returns them in the core's arm order; throws ScenarioError('arms', …).
 */
export function parseArms(text: string, run: RunSpec): string[] {
  const known = armLabels(run);
  if (known.length < MIN_ARMS)
    throw new ScenarioError(
      'arms',
      `only a comparison has arms; set protocol=all on a protocol scenario, or remove arms`,
    );
  const wanted = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const seen = new Set<string>();
  for (const label of wanted) {
    if (!known.includes(label))
      throw new ScenarioError(
        'arms',
        `unknown arm ${JSON.stringify(label.slice(0, 40))}; choose from ${known.join(', ')}`,
      );
    if (seen.has(label)) throw new ScenarioError('arms', `${label} is listed twice`);
    seen.add(label);
  }
  if (seen.size < MIN_ARMS)
    throw new ScenarioError(
      'arms',
      `choose at least ${MIN_ARMS} of ${known.join(', ')} (got ${seen.size})`,
    );
  return known.filter((l) => seen.has(l));
}

/** The arms a run stands for, keeping only `wanted` (all when absent); validates like parseArms. */
export function selectArms(run: RunSpec, wanted?: readonly string[]): Arm[] {
  const all = armsOf(run);
  if (!wanted) return all;
  const keep = parseArms(wanted.join(','), run);
  return all.filter((a) => keep.includes(a.label));
}

/** The `arms` text for the URL: empty when every arm is kept (the default needs no parameter). */
export function armsText(run: RunSpec, chosen: readonly string[]): string {
  const known = armLabels(run);
  const keep = known.filter((l) => chosen.includes(l));
  return keep.length === known.length ? '' : keep.join(',');
}

/** The arms a request stands for: its A/B override arms, or the run's own (protocol) arms. */
export function requestArms(
  run: RunSpec,
  request: { arms?: readonly string[]; abArms?: readonly OverrideArm[] },
): Arm[] {
  if (!request.abArms) return selectArms(run, request.arms);
  if (request.arms)
    throw new ScenarioError('arms', 'give either protocol arms or A/B arms (ab), not both');
  return armsFromOverrides(run, request.abArms, 'ab');
}

/** Checks a request's noise seed count: a whole number from 0 to MAX_NOISE_SEEDS. */
export function noiseCount(raw: number | undefined): number {
  const count = raw ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > MAX_NOISE_SEEDS)
    throw new ScenarioError('noiseSeeds', `must be a whole number from 0 to ${MAX_NOISE_SEEDS}`);
  return count;
}
