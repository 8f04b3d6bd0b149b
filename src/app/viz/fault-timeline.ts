// Fault-timeline geometry with d3: one row per fault along the run's time axis, its down-time bar, label and the "now" cursor.
import { scaleLinear } from 'd3';
import { HEAL_KINDS, type FaultEntry } from '../cluster/faults.ts';

export interface TimelineRow {
  index: number;
  kind: string;
  /** The bar's centre line, px from the top of the plot (the label sits above it). */
  y: number;
  labelY: number;
  /** The fault's mark. */
  x: number;
  /** Down time drawn as a bar from x to barEndX (null for an instant fault). */
  barEndX: number | null;
  /** The bar reaches "now" because the fault is still open. */
  open: boolean;
  /** An open fault with a planned end (a timed slow link, a crash for 10 s): where it will end. */
  plannedEndX: number | null;
  /** Not fired yet: drawn hollow, its planned bar dashed. */
  pending: boolean;
  /** A heal (click) ended it: a cap is drawn at barEndX. */
  healed: boolean;
  /** It fired but changed nothing (the run recorded it as not applied): a hollow, struck mark. */
  noEffect: boolean;
  label: string;
  labelX: number;
  labelAnchor: 'start' | 'end';
}

export interface TimelineGeometry {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  innerWidth: number;
  rows: TimelineRow[];
  ticks: { x: number; label: string }[];
  nowX: number;
  /** Faults scheduled after the run ends (not drawn). */
  afterEnd: number;
}

export const ROW_PX = 32;
const MARGIN = { left: 16, right: 20, top: 6, bottom: 22 };
/** Approximate width of one label character at 11.5 px (for placing labels left or right). */
export const CHAR_PX = 6.4;

/** Kinds whose effect lasts: they get a bar until their recovery. */
const LASTING = new Set([
  'server-crash',
  'broker-down',
  'lb-down',
  'partition',
  'graceful-shutdown',
  'slow-link',
]);

export function timelineGeometry(
  entries: readonly FaultEntry[],
  labels: readonly string[],
  options: {
    width: number;
    nowS: number;
    durationS: number;
    drainS: number;
    /** Faults that fired but changed nothing (drawn as a mark without a bar). */
    noEffect?: ReadonlySet<number>;
  },
): TimelineGeometry {
  const { width, nowS, durationS } = options;
  const innerWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
  const x = scaleLinear()
    .domain([0, Math.max(durationS, 1e-6)])
    .range([0, innerWidth]);
  const clampX = (s: number) => x(Math.min(Math.max(s, 0), durationS));
  // Which faults a heal ended: a heal's time is its target's recovery time.
  const healTimes = entries.filter((e) => HEAL_KINDS.has(e.kind) && e.hit > 0).map((e) => e.atS);
  const shown = entries
    .filter((e) => !HEAL_KINDS.has(e.kind) && e.atS <= durationS)
    .sort((a, b) => a.atS - b.atS || a.index - b.index);
  const rows: TimelineRow[] = shown.map((e, row) => {
    const pending = e.atS > nowS;
    const lasting = LASTING.has(e.kind);
    let barEnd: number | null = null;
    let open = false;
    let plannedEnd: number | null = null;
    if (lasting) {
      const plannedS =
        e.kind === 'graceful-shutdown' ? options.drainS : e.forS > 0 ? e.forS : Infinity;
      if (options.noEffect?.has(e.index)) barEnd = null;
      else if (e.recoveredAtS !== null) barEnd = e.recoveredAtS;
      else if (pending) barEnd = Number.isFinite(plannedS) ? e.atS + plannedS : null;
      else if (e.kind === 'graceful-shutdown') barEnd = Math.min(nowS, e.atS + plannedS);
      else {
        barEnd = nowS;
        open = true;
        if (Number.isFinite(plannedS) && e.atS + plannedS > nowS) plannedEnd = e.atS + plannedS;
      }
    }
    const healed =
      e.recoveredAtS !== null && healTimes.some((t) => Math.abs(t - e.recoveredAtS!) < 1e-6);
    const xs = clampX(e.atS);
    const barEndX = barEnd === null ? null : Math.max(xs + 2, clampX(barEnd));
    const label = labels[e.index] ?? e.kind;
    const textPx = label.length * CHAR_PX;
    // The label sits above the bar, starting at the mark; near the right end it ends there instead.
    // When it fits neither way (a long label mid-axis), it is shifted left to end at the edge.
    const fitsRight = xs - 6 + textPx <= innerWidth;
    const fitsLeft = xs + 6 - textPx >= 0;
    const right = fitsRight || (!fitsLeft && xs < innerWidth / 2) || (!fitsLeft && !fitsRight);
    const labelX = fitsRight
      ? Math.max(0, xs - 6)
      : right
        ? Math.max(0, innerWidth - textPx)
        : Math.min(innerWidth, xs + 6);
    return {
      index: e.index,
      kind: e.kind,
      y: MARGIN.top + row * ROW_PX + 22,
      labelY: MARGIN.top + row * ROW_PX + 9,
      x: xs,
      barEndX,
      open,
      plannedEndX: plannedEnd === null ? null : clampX(plannedEnd),
      pending,
      healed,
      noEffect: !pending && options.noEffect?.has(e.index) === true,
      label,
      labelX,
      labelAnchor: right ? 'start' : 'end',
    };
  });
  const ticks = x
    .ticks(Math.max(2, Math.round(innerWidth / 90)))
    .map((t) => ({ x: x(t), label: `${t} s` }));
  return {
    width,
    height: MARGIN.top + Math.max(1, rows.length) * ROW_PX + MARGIN.bottom,
    margin: MARGIN,
    innerWidth,
    rows,
    ticks,
    nowX: clampX(nowS),
    afterEnd: entries.filter((e) => !HEAL_KINDS.has(e.kind) && e.atS > durationS).length,
  };
}
