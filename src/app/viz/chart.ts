// Line-chart geometry with d3: series in, SVG path strings and axis ticks out (no DOM).
import { line, max as d3max, scaleLinear, scaleLog } from 'd3';

export interface ChartLine {
  key: string;
  values: readonly number[];
}

/** A line with its own time axis (simulated seconds), drawn over the chart's own lines. */
export interface ChartOverlayLine extends ChartLine {
  tS: readonly number[];
}

export interface ChartTick {
  at: number;
  label: string;
}

export interface ChartGeometry {
  /** Plot area inside the margins, in px. */
  innerWidth: number;
  innerHeight: number;
  margin: { top: number; right: number; bottom: number; left: number };
  paths: { key: string; d: string }[];
  /** The overlay's lines (measured against real servers), on the same scales; empty without one. */
  overlayPaths: { key: string; d: string }[];
  xTicks: ChartTick[];
  yTicks: ChartTick[];
  /** Position of the latest sample, for the "now" marker; null before the first sample. */
  lastX: number | null;
}

export interface ChartOptions {
  width: number;
  height: number;
  /** The x axis spans 0..durationS so the chart fills up as the run goes on. */
  durationS: number;
  formatY: (value: number) => string;
  /** Use a log y scale (latencies spanning decades). */
  logY?: boolean;
  /** Lowest upper bound of the y domain, so an idle run does not zoom into noise. */
  minYMax?: number;
  /** Lines sampled at their own times (a bridge run's measurements); they widen the domains too. */
  overlay?: readonly ChartOverlayLine[];
}

const MARGIN = { top: 10, right: 14, bottom: 26, left: 56 };

export function chartGeometry(
  tS: readonly number[],
  lines: readonly ChartLine[],
  options: ChartOptions,
): ChartGeometry {
  const innerWidth = Math.max(10, options.width - MARGIN.left - MARGIN.right);
  const innerHeight = Math.max(10, options.height - MARGIN.top - MARGIN.bottom);
  const overlay = options.overlay ?? [];
  const overlayEndS = d3max(overlay, (l) => l.tS[l.tS.length - 1]) ?? 0;
  const x = scaleLinear()
    .domain([0, Math.max(options.durationS, tS[tS.length - 1] ?? 0, overlayEndS, 1e-6)])
    .range([0, innerWidth]);
  const finite = (v: number) => Number.isFinite(v) && (!options.logY || v > 0);
  const allLines = overlay.length ? [...lines, ...overlay] : lines;
  const yMaxData = d3max(allLines, (l) => d3max(l.values.filter(finite))) ?? 0;
  const yMax = Math.max(yMaxData * 1.08, options.minYMax ?? 1);
  const tickCount = Math.max(2, Math.round(innerHeight / 36));
  let yTicks: ChartTick[];
  let yOf: (v: number) => number;
  if (options.logY) {
    const yMinData = d3min(allLines, finite);
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(yMinData ?? 1, yMax / 10))));
    const y = scaleLog().domain([lo, yMax]).range([innerHeight, 0]).nice();
    yOf = y;
    yTicks = y
      .ticks(tickCount)
      .filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9)
      .map((t) => ({ at: y(t), label: options.formatY(t) }));
  } else {
    const y = scaleLinear().domain([0, yMax]).range([innerHeight, 0]).nice(tickCount);
    yOf = y;
    yTicks = y.ticks(tickCount).map((t) => ({ at: y(t), label: options.formatY(t) }));
  }
  const paths = lines.map((l) => {
    const gen = line<number>()
      .defined((v) => finite(v))
      .x((_, i) => x(tS[i]))
      .y((v) => yOf(v));
    return { key: l.key, d: gen(l.values as number[]) ?? '' };
  });
  const overlayPaths = overlay.map((l) => {
    const gen = line<number>()
      .defined((v, i) => finite(v) && Number.isFinite(l.tS[i]))
      .x((_, i) => x(l.tS[i]))
      .y((v) => yOf(v));
    return { key: l.key, d: gen(l.values as number[]) ?? '' };
  });
  const xTicks = x
    .ticks(Math.max(2, Math.round(innerWidth / 80)))
    .map((t) => ({ at: x(t), label: `${t} s` }));
  return {
    innerWidth,
    innerHeight,
    margin: MARGIN,
    paths,
    overlayPaths,
    xTicks,
    yTicks,
    lastX: tS.length ? x(tS[tS.length - 1]) : null,
  };
}

function d3min(lines: readonly ChartLine[], keep: (v: number) => boolean): number | undefined {
  let m: number | undefined;
  for (const l of lines) for (const v of l.values) if (keep(v) && (m === undefined || v < m)) m = v;
  return m;
}
