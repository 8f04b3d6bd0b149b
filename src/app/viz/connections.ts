// Per-server connections over time with d3: one line per server, or the servers stacked, plus fault marks on the time axis.
import { area, line, scaleLinear, schemeTableau10, stack } from 'd3';

export interface ConnectionsPath {
  server: number;
  d: string;
  colour: string;
  /** The latest value, for the legend. */
  last: number;
}

export interface ConnectionsGeometry {
  innerWidth: number;
  innerHeight: number;
  margin: { top: number; right: number; bottom: number; left: number };
  paths: ConnectionsPath[];
  xTicks: { at: number; label: string }[];
  yTicks: { at: number; label: string }[];
  /** Fault marks on the time axis. */
  marks: { x: number; kind: string }[];
  lastX: number | null;
}

const MARGIN = { top: 10, right: 14, bottom: 26, left: 56 };

/** A server's colour: the same in the chart, its legend and nowhere else confusable. */
export function serverColour(server: number): string {
  return schemeTableau10[server % schemeTableau10.length];
}

/**
 * Geometry for `rows` (one per sample interval, one connection count per server, ending at
 * (i + 1) × intervalS). Rows may grow as servers join; missing counts are zero.
 */
export function connectionsGeometry(
  rows: readonly (readonly number[])[],
  options: {
    width: number;
    height: number;
    intervalS: number;
    /** End time of each row (the series' tS) when known; else (i + 1) × intervalS. */
    tS?: readonly number[];
    durationS: number;
    stacked: boolean;
    formatY: (v: number) => string;
    faults?: readonly { atS: number; kind: string }[];
  },
): ConnectionsGeometry {
  const innerWidth = Math.max(10, options.width - MARGIN.left - MARGIN.right);
  const innerHeight = Math.max(10, options.height - MARGIN.top - MARGIN.bottom);
  const servers = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const tS =
    options.tS && options.tS.length === rows.length
      ? options.tS
      : rows.map((_, i) => (i + 1) * options.intervalS);
  const x = scaleLinear()
    .domain([0, Math.max(options.durationS, tS[tS.length - 1] ?? 0, 1e-6)])
    .range([0, innerWidth]);
  const full = rows.map((r) => Array.from({ length: servers }, (_, s) => r[s] ?? 0));
  let yMax = 0;
  for (const r of full) {
    const v = options.stacked ? r.reduce((a, b) => a + b, 0) : Math.max(0, ...r);
    if (v > yMax) yMax = v;
  }
  const y = scaleLinear()
    .domain([0, Math.max(10, yMax * 1.08)])
    .range([innerHeight, 0])
    .nice(Math.max(2, Math.round(innerHeight / 36)));
  const paths: ConnectionsPath[] = [];
  if (options.stacked) {
    const layers = stack<number[], number>()
      .keys(Array.from({ length: servers }, (_, s) => s))
      .value((row, s) => row[s])(full);
    const gen = area<[number, number]>()
      .x((_, i) => x(tS[i]))
      .y0((p) => y(p[0]))
      .y1((p) => y(p[1]));
    layers.forEach((layer, s) =>
      paths.push({
        server: s,
        d: gen(layer.map((p) => [p[0], p[1]] as [number, number])) ?? '',
        colour: serverColour(s),
        last: full.length ? full[full.length - 1][s] : 0,
      }),
    );
  } else {
    for (let s = 0; s < servers; s++) {
      const gen = line<number[]>()
        .x((_, i) => x(tS[i]))
        .y((r) => y(r[s]));
      paths.push({
        server: s,
        d: gen(full) ?? '',
        colour: serverColour(s),
        last: full.length ? full[full.length - 1][s] : 0,
      });
    }
  }
  return {
    innerWidth,
    innerHeight,
    margin: MARGIN,
    paths,
    xTicks: x.ticks(Math.max(2, Math.round(innerWidth / 80))).map((t) => ({
      at: x(t),
      label: `${t} s`,
    })),
    yTicks: y.ticks(Math.max(2, Math.round(innerHeight / 36))).map((t) => ({
      at: y(t),
      label: options.formatY(t),
    })),
    marks: (options.faults ?? [])
      .filter((f) => f.atS <= x.domain()[1])
      .map((f) => ({ x: x(f.atS), kind: f.kind })),
    lastX: tS.length ? x(tS[tS.length - 1]) : null,
  };
}
