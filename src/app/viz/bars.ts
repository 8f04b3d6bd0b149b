// Horizontal bar-chart geometry with d3 scales: one bar per item, its value label just after the bar.
import { scaleBand, scaleLinear } from 'd3';

export interface BarItem {
  key: string;
  label: string;
  value: number;
}

export interface BarGeom {
  key: string;
  label: string;
  value: number;
  /** Bar rectangle in px inside the plot (x from 0). */
  y: number;
  h: number;
  w: number;
  /** Where the value text starts (after the bar: coloured bars are too light for text inside). */
  textX: number;
}

export interface BarLayout {
  /** Left gutter for the item labels, px. */
  labelW: number;
  plotW: number;
  bars: BarGeom[];
}

/** Room kept right of the longest bar for its value label, px. */
export const VALUE_ROOM = 92;

/** Bars share one linear scale from 0 to the largest value; missing values (NaN) draw no bar. */
export function barLayout(
  items: readonly BarItem[],
  width: number,
  height: number,
  labelW = 96,
): BarLayout {
  const plotW = Math.max(20, width - labelW - VALUE_ROOM);
  const y = scaleBand<string>()
    .domain(items.map((i) => i.key))
    .range([0, height])
    .paddingInner(0.28)
    .paddingOuter(0.12);
  const top = Math.max(0, ...items.map((i) => (Number.isFinite(i.value) ? i.value : 0)));
  const x = scaleLinear()
    .domain([0, top > 0 ? top : 1])
    .range([0, plotW]);
  return {
    labelW,
    plotW,
    bars: items.map((i) => {
      const w = Number.isFinite(i.value) ? Math.max(i.value > 0 ? 2 : 0, x(i.value)) : 0;
      return {
        key: i.key,
        label: i.label,
        value: i.value,
        y: y(i.key) ?? 0,
        h: y.bandwidth(),
        w,
        textX: w + 6,
      };
    }),
  };
}
