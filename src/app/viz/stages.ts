// Where the shaping stages' chips sit on the topology (under the broker, under the servers, on the server → users fan): pure layout maths.
import type { TopologyStage } from '../../sim/types.ts';

export interface StageChip {
  name: string;
  at: TopologyStage['at'];
  label: string;
  /** Centre and size in px. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Where a dotted leader from the chip's top ends (the part the stage acts on); null when the chip sits against it. */
  leader: { x: number; y: number } | null;
}

export const CHIP_H = 16;
/** Chip rows are this far apart. */
export const CHIP_ROW_H = 21;
/** Longer labels are cut with an ellipsis when drawn (the full text is in the topology's description). */
export const CHIP_MAX_W = 250;
/** Horizontal room between two chips of a row. */
const CHIP_GAP = 6;
/** A leader shorter than this is not drawn: the chip already touches what it names. */
const MIN_LEADER = 10;

/** A chip's width for its label (10 px semibold text plus padding), before the cap. */
export function chipWidth(label: string): number {
  return Math.min(CHIP_MAX_W, Math.round(label.length * 5.7 + 16));
}

/**
 * Packs chips into rows between `left` and `right`: each goes as near its wanted centre as the
 * row allows (pushed right by at most half its width), else on the next row. Returns each
 * chip's centre and row, in the input order; chips of one row never overlap.
 */
export function packChips(
  items: readonly { cx: number; w: number }[],
  left: number,
  right: number,
): { x: number; w: number; row: number }[] {
  const span = Math.max(1, right - left);
  const out: { x: number; w: number; row: number }[] = items.map(() => ({ x: 0, w: 0, row: 0 }));
  const order = items.map((_, i) => i).sort((a, b) => items[a].cx - items[b].cx || a - b);
  /** The right edge of the last chip on each row. */
  const rowRight: number[] = [];
  for (const i of order) {
    const w = Math.min(items[i].w, span);
    const wanted = Math.min(Math.max(items[i].cx - w / 2, left), right - w);
    let row = rowRight.findIndex((r) => {
      const at = Math.max(wanted, r + CHIP_GAP);
      return at - wanted <= w / 2 && at + w <= right;
    });
    if (row < 0) {
      row = rowRight.length;
      rowRight.push(-Infinity);
    }
    const at = Math.max(wanted, rowRight[row] + CHIP_GAP);
    rowRight[row] = at + w;
    out[i] = { x: at + w / 2, w, row };
  }
  return out;
}

/** Server and connection stages go in a band under the fan; broker stages stack under the broker. */
function bandStages(stages: readonly TopologyStage[]): TopologyStage[] {
  return stages.filter((s) => s.at !== 'broker');
}

function bandPlacement(
  stages: readonly TopologyStage[],
  xServers: number,
  xLink: number,
  width: number,
  pad: number,
) {
  const band = bandStages(stages);
  const placed = packChips(
    band.map((s) => ({ cx: s.at === 'server' ? xServers : xLink, w: chipWidth(s.label) })),
    pad,
    width - pad,
  );
  return { band, placed, rows: placed.reduce((m, p) => Math.max(m, p.row + 1), 0) };
}

/** The height the band of server and connection chips needs, so the layout can keep it free (0 without such stages). */
export function stageBandHeight(
  stages: readonly TopologyStage[],
  xServers: number,
  xLink: number,
  width: number,
  pad: number,
): number {
  const { rows } = bandPlacement(stages, xServers, xLink, width, pad);
  return rows ? rows * CHIP_ROW_H + 4 : 0;
}

export interface StageAnchors {
  width: number;
  pad: number;
  /** The broker's box: its stages stack under it. */
  broker: { x: number; y: number; w: number; h: number } | null;
  /** The servers' column centre, and where a leader to them ends (null: none, e.g. under a grid's legend). */
  servers: { x: number; leaderY: number | null };
  /** Where connection chips are centred: the middle of the hop-1 fan (the same as stageBandHeight got). */
  xLink: number;
  /** The middle of the bottom-most server → users link: connection chips point at it. */
  link: { x: number; y: number };
  /** The lowest point of the drawing the band must stay under (boxes, a grid's legend). */
  clear: number;
  /** The top of the band the layout kept free: the chips never start lower. */
  bandTop: number;
}

/**
 * The chips for the run's stages, one per stage (never one per server, so 100 servers read as
 * easily as 2): broker stages under the broker, server stages under the servers' column and
 * connection stages under the hop-1 fan, each with a leader to what it acts on.
 */
export function layoutStages(stages: readonly TopologyStage[], a: StageAnchors): StageChip[] {
  const chips: StageChip[] = [];
  const brokerStages = stages.filter((s) => s.at === 'broker');
  if (a.broker)
    brokerStages.forEach((s, i) => {
      const w = Math.min(chipWidth(s.label), a.width - 2 * a.pad);
      const x = Math.min(Math.max(a.broker!.x, a.pad + w / 2), a.width - a.pad - w / 2);
      const y = a.broker!.y + a.broker!.h / 2 + 6 + CHIP_H / 2 + i * CHIP_ROW_H;
      chips.push({ name: s.name, at: s.at, label: s.label, x, y, w, h: CHIP_H, leader: null });
    });
  const { band, placed } = bandPlacement(stages, a.servers.x, a.xLink, a.width, a.pad);
  if (!band.length) return chips;
  const top = Math.min(a.bandTop, a.clear + 8);
  // A chip under another one needs no leader of its own (it would cross the chip above).
  const covered = (i: number) =>
    placed.some(
      (q, j) =>
        q.row < placed[i].row && Math.abs(q.x - placed[i].x) * 2 < q.w + placed[i].w && j !== i,
    );
  band.forEach((s, i) => {
    const p = placed[i];
    const y = top + p.row * CHIP_ROW_H + CHIP_H / 2;
    const chipTop = y - CHIP_H / 2;
    let leader: StageChip['leader'] = null;
    if (!covered(i)) {
      if (
        s.at === 'server' &&
        a.servers.leaderY !== null &&
        chipTop - a.servers.leaderY > MIN_LEADER
      )
        leader = { x: p.x, y: a.servers.leaderY };
      if (s.at === 'connection' && chipTop - a.link.y > MIN_LEADER) leader = { ...a.link };
    }
    chips.push({ name: s.name, at: s.at, label: s.label, x: p.x, y, w: p.w, h: CHIP_H, leader });
  });
  return chips;
}
