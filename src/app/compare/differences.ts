// The Compare view's judging: where the noise estimate is, and the differences table as shown (cell text, spreads, verdicts in words).
import {
  differences,
  explain,
  figuresOf,
  rangeText,
  type Better,
  type Figure,
  type FigureSet,
  type Verdict,
} from '../../sim/compare.ts';
import type { ArmUpdate, NoiseProgress, RunPhase } from '../../worker/protocol.ts';
import { formatCell } from './matrix.ts';

/**
 * `running`: the arms are not done, verdicts wait; `estimating`: the noise runs are under way;
 * `final`: verdicts use the spreads; `exact`: no noise estimate (none asked, or it was stopped).
 */
export type JudgingState = 'running' | 'estimating' | 'final' | 'exact';

export interface Judging {
  state: JudgingState;
  /** Per arm, its figures on each noise seed (final only). */
  noise: FigureSet[][] | null;
  /** One line for the page: "estimating noise: 3 of 6 runs…". */
  text: string;
}

/** Where the verdicts stand, from the run's phase and the worker's noise progress. */
export function judgingOf(
  phase: RunPhase,
  noise: NoiseProgress | null,
  noiseSeeds: number,
): Judging {
  if (phase !== 'done')
    return {
      state: 'running',
      noise: null,
      text: 'wins and ties are filled in once the arms finish and the noise is estimated',
    };
  if (noise?.stopped)
    return { state: 'exact', noise: null, text: `${noise.stopped} Only equal values tie.` };
  if (noiseSeeds === 0)
    return { state: 'exact', noise: null, text: 'no noise estimate: only equal values tie' };
  if (!noise?.figures)
    return {
      state: 'estimating',
      noise: null,
      text: `estimating noise: ${noise?.done ?? 0} of ${noise?.total ?? '…'} runs…`,
    };
  const n = noise.seeds.length;
  return {
    state: 'final',
    noise: noise.figures,
    text: `noise from seeds ${noise.seeds.join(', ')}: a win needs spreads (min–max over ${n + 1} seeds) that do not overlap`,
  };
}

export interface DifferenceCell {
  text: string;
  value: Figure;
  /** "33.9–34.5 ms" over every seed, once the noise is known. */
  spread: string | null;
  winner: boolean;
}

export interface ShownDifference {
  key: string;
  label: string;
  better: Better;
  cells: DifferenceCell[];
  /** `pending` until the verdicts are ready. */
  outcome: Verdict['outcome'] | 'pending';
  winners: string[];
  why: string;
}

const format = (v: number, unit: string) => formatCell(v, unit);

/** The differences table for the page: every arm's figures and, when ready, the verdicts. */
export function shownDifferences(arms: readonly ArmUpdate[], judging: Judging): ShownDifference[] {
  const names = arms.map((a) => a.label);
  const pending = judging.state === 'running' || judging.state === 'estimating';
  const rows = differences(
    arms.map((a) => figuresOf(a.result)),
    judging.noise,
  );
  return rows.map((d) => {
    const winners = pending ? [] : d.verdict.winners;
    const cells = d.values.map((value, i) => {
      const s = d.spreads?.[i];
      const text = formatCell(value, d.unit);
      const range = s ? rangeText(format(s[0], d.unit), format(s[1], d.unit)) : null;
      // A spread that reads like the value itself (the same on every seed) says nothing more.
      const spread = range === text ? null : range;
      return { text, value, spread, winner: winners.includes(i) };
    });
    return {
      key: d.key,
      label: d.label,
      better: d.better,
      cells,
      outcome: pending ? 'pending' : d.verdict.outcome,
      winners: winners.map((i) => names[i]),
      why: pending ? '' : explain(d, names, format),
    };
  });
}
