// Paints the topology on a 2D canvas: edges by hop, nodes with live load, and the moving message marks.
import type { ServerStats } from '../../sim/types.ts';
import { formatCompact, formatCount, formatPercent } from '../format.ts';
import type { Mark } from '../motion.ts';
import { cpuColour, palette } from './palette.ts';
import { edgeFor, pointAt, type NodeGeom, type TopologyLayout } from './topology-layout.ts';

export interface DrawInput {
  layout: TopologyLayout;
  servers: Map<string, ServerStats>;
  marks: readonly Mark[];
  /** Reduced motion: no travelling dots; edges that carried traffic are drawn stronger instead. */
  still: boolean;
  hoverId: string | null;
  /** Servers to call out in grid mode (the hottest). */
  hottest: readonly string[];
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const edgeColour = { hop2: palette.hop2, hop1: palette.hop1 } as const;
const markColour = {
  publish: palette.hop2,
  hop2: palette.hop2,
  hop1: palette.hop1,
  drop: palette.drop,
} as const;

function roundRect(ctx: CanvasRenderingContext2D, n: NodeGeom, r: number): void {
  ctx.beginPath();
  ctx.roundRect(n.x - n.w / 2, n.y - n.h / 2, n.w, n.h, r);
}

function text(
  ctx: CanvasRenderingContext2D,
  value: string,
  x: number,
  y: number,
  size: number,
  colour: string,
  weight = 400,
  align: CanvasTextAlign = 'center',
): void {
  ctx.font = `${weight} ${size}px ${FONT}`;
  ctx.fillStyle = colour;
  ctx.textAlign = align;
  ctx.textBaseline = 'middle';
  ctx.fillText(value, x, y);
}

export function drawTopology(ctx: CanvasRenderingContext2D, input: DrawInput): void {
  const { layout, servers, marks, still } = input;
  const grid = layout.mode === 'grid';
  ctx.clearRect(0, 0, layout.width, layout.height);

  for (const c of layout.columns)
    text(ctx, c.label.toUpperCase(), c.x, 20, 10.5, palette.faint, 600);

  // Edges that carry a mark right now, to brighten them.
  const active = new Map<string, number>();
  for (const m of marks) {
    const e = edgeFor(layout, m.record.from, m.record.to);
    if (e) active.set(e.id, (active.get(e.id) ?? 0) + 1);
  }
  for (const e of layout.edges) {
    const hits = active.get(e.id) ?? 0;
    // In grid mode the fan of server edges is dense: draw it faint, the ingest edge stays clear.
    const fan = grid && e.from !== 'source' && layout.byId.get(e.from)?.kind !== 'source';
    const base = fan ? 0.1 : 0.32;
    ctx.globalAlpha = Math.min(0.9, base + (still ? 0.12 : 0.06) * Math.min(hits, 6));
    ctx.strokeStyle = edgeColour[e.hop];
    ctx.lineWidth = fan ? 1 : 1.6 + (still ? Math.min(hits, 4) * 0.5 : 0);
    // The TURN relay is a fallback path: dashed. Uploads are thinner than the main stream.
    ctx.setLineDash(e.style === 'relay' ? [5, 4] : []);
    if (e.style === 'upstream') ctx.lineWidth *= 0.8;
    ctx.beginPath();
    ctx.moveTo(e.x0, e.y0);
    ctx.bezierCurveTo(e.c1x, e.c1y, e.c2x, e.c2y, e.x1, e.y1);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;

  for (const n of layout.nodes) {
    if (n.kind === 'server') {
      if (grid) drawServerCell(ctx, n, servers.get(n.id), n.id === input.hoverId);
      else drawServerBox(ctx, n, servers.get(n.id), n.id === input.hoverId);
    } else if (n.kind === 'users') {
      if (grid) {
        ctx.fillStyle = n.id === input.hoverId ? palette.hop1 : 'rgba(11, 143, 128, 0.13)';
        ctx.fillRect(n.x - n.w / 2, n.y - n.h / 2, n.w, Math.max(1, n.h - 1));
      } else drawUsersBox(ctx, n, n.id === input.hoverId);
    } else drawRoleBox(ctx, n);
  }
  if (grid) drawGridNotes(ctx, layout, servers, input.hottest);

  if (!still) drawMarks(ctx, layout, marks);
  if (layout.kind === 'protocol') drawProtocolLabels(ctx, layout);
  else drawHopLabels(ctx, layout);
}

function pill(ctx: CanvasRenderingContext2D, label: string, x: number, y: number, colour: string) {
  ctx.font = `700 10px ${FONT}`;
  const w = ctx.measureText(label).width + 12;
  ctx.fillStyle = palette.canvas;
  ctx.beginPath();
  ctx.roundRect(x - w / 2, y - 8, w, 16, 8);
  ctx.fill();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1;
  ctx.stroke();
  text(ctx, label, x, y + 0.5, 10, colour, 700);
}

/** Pills naming the protocol layout's paths: down to the clients, up from them, peer to peer, relay. */
function drawProtocolLabels(ctx: CanvasRenderingContext2D, layout: TopologyLayout): void {
  const names: Record<string, string> = {
    'server->clients': 'DOWN',
    'clients->server': 'UP',
    'clients->clients': 'PEER TO PEER',
    'clients->turn': 'RELAY',
  };
  for (const e of layout.edges) {
    const label = names[e.id];
    if (!label) continue;
    const [x, y] = pointAt(e, 0.5);
    const dy = e.id === 'server->clients' ? -12 : e.id === 'clients->server' ? 12 : 0;
    pill(ctx, label, x, y + dy, edgeColour[e.hop]);
  }
}

/** A pill naming the hop on the first edge of each fan (broker → servers, servers → users). */
function drawHopLabels(ctx: CanvasRenderingContext2D, layout: TopologyLayout): void {
  for (const hop of ['hop2', 'hop1'] as const) {
    const fan = layout.edges.filter(
      (e) => e.hop === hop && layout.byId.get(e.from)?.kind !== 'source',
    );
    if (!fan.length) continue;
    const e = fan.reduce((a, b) => (b.y1 < a.y1 ? b : a));
    const [x, midY] = pointAt(e, 0.5);
    const label = hop === 'hop2' ? 'HOP 2' : 'HOP 1';
    const y = layout.mode === 'grid' || fan.length === 1 ? Math.max(40, midY - 16) : midY;
    const at = { x };
    ctx.font = `700 10px ${FONT}`;
    const w = ctx.measureText(label).width + 12;
    ctx.fillStyle = palette.canvas;
    ctx.beginPath();
    ctx.roundRect(at.x - w / 2, y - 8, w, 16, 8);
    ctx.fill();
    ctx.strokeStyle = edgeColour[hop];
    ctx.lineWidth = 1;
    ctx.stroke();
    text(ctx, label, at.x, y + 0.5, 10, edgeColour[hop], 700);
  }
}

function drawRoleBox(ctx: CanvasRenderingContext2D, n: NodeGeom): void {
  roundRect(ctx, n, 10);
  ctx.fillStyle = palette.surface;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = n.kind === 'broker' ? palette.hop2 : palette.ingest;
  ctx.stroke();
  text(ctx, n.label, n.x, n.y - 8, 12.5, palette.ink, 600);
  const role = n.id === 'turn' ? 'relay' : n.kind === 'broker' ? 'broker' : 'publisher';
  text(ctx, role, n.x, n.y + 10, 11, palette.muted);
}

function drawServerBox(
  ctx: CanvasRenderingContext2D,
  n: NodeGeom,
  s: ServerStats | undefined,
  hover: boolean,
): void {
  roundRect(ctx, n, 10);
  ctx.fillStyle = palette.surface;
  ctx.fill();
  ctx.lineWidth = hover ? 2.5 : 1.5;
  ctx.strokeStyle = hover ? palette.ink : palette.hop2;
  ctx.stroke();
  const left = n.x - n.w / 2 + 10;
  const compact = n.h < 60;
  const top = n.y - n.h / 2;
  text(ctx, n.label, left, top + 13, 12.5, palette.ink, 600, 'left');
  const cpu = s?.cpuUtilisation ?? 0;
  if (!compact) {
    const conns = `${formatCount(s?.connections ?? 0)} conns`;
    text(ctx, conns, left, top + 30, 11, palette.muted, 400, 'left');
    const queue = s ? `queue ${formatCompact(s.queueLength)}` : '';
    text(
      ctx,
      queue,
      n.x + n.w / 2 - 10,
      top + 30,
      11,
      s?.queueLength ? palette.drop : palette.muted,
      400,
      'right',
    );
  } else {
    text(
      ctx,
      `${formatCount(s?.connections ?? 0)} conns`,
      n.x + n.w / 2 - 10,
      top + 13,
      11,
      palette.muted,
      400,
      'right',
    );
  }
  // CPU bar along the bottom.
  const barW = n.w - 20;
  const barY = n.y + n.h / 2 - (compact ? 12 : 16);
  ctx.fillStyle = palette.line;
  ctx.beginPath();
  ctx.roundRect(left, barY, barW, 6, 3);
  ctx.fill();
  ctx.fillStyle = cpuColour(Math.min(1, cpu));
  ctx.beginPath();
  ctx.roundRect(left, barY, Math.max(2, barW * Math.min(1, cpu)), 6, 3);
  ctx.fill();
  if (!compact)
    text(ctx, `CPU ${formatPercent(cpu)}`, left, barY - 7, 10, palette.muted, 500, 'left');
}

function drawServerCell(
  ctx: CanvasRenderingContext2D,
  n: NodeGeom,
  s: ServerStats | undefined,
  hover: boolean,
): void {
  const x = n.x - n.w / 2;
  const y = n.y - n.h / 2;
  ctx.fillStyle = cpuColour(Math.min(1, s?.cpuUtilisation ?? 0));
  ctx.beginPath();
  ctx.roundRect(x, y, n.w, n.h, Math.min(4, n.w / 5));
  ctx.fill();
  // A bar along the bottom grows with the send queue (from 10 queued sends; full width at 1,000).
  if (s && s.queueLength >= 10) {
    ctx.fillStyle = palette.ink;
    const share = Math.min(1, Math.log10(1 + s.queueLength) / 3);
    ctx.fillRect(x + 2, y + n.h - 3, Math.max(1.5, (n.w - 4) * share), 1.5);
  }
  if (hover) {
    ctx.lineWidth = 2;
    ctx.strokeStyle = palette.ink;
    ctx.stroke();
  }
}

function drawUsersBox(ctx: CanvasRenderingContext2D, n: NodeGeom, hover: boolean): void {
  roundRect(ctx, n, n.h / 2);
  ctx.fillStyle = 'rgba(11, 143, 128, 0.08)';
  ctx.fill();
  ctx.lineWidth = hover ? 2.5 : 1.5;
  ctx.strokeStyle = palette.hop1;
  ctx.stroke();
  text(
    ctx,
    `${formatCount(n.count)} ${n.id === 'clients' ? 'clients' : 'users'}`,
    n.x,
    n.y,
    12,
    palette.ink,
    600,
  );
}

function drawGridNotes(
  ctx: CanvasRenderingContext2D,
  layout: TopologyLayout,
  servers: Map<string, ServerStats>,
  hottest: readonly string[],
): void {
  const cells = layout.nodes.filter((n) => n.kind === 'server');
  const groups = layout.nodes.filter((n) => n.kind === 'users');
  if (!cells.length) return;
  // Outline the hottest servers.
  for (const id of hottest) {
    const n = layout.byId.get(id);
    if (!n) continue;
    ctx.lineWidth = 2;
    ctx.strokeStyle = palette.ink;
    ctx.beginPath();
    ctx.roundRect(n.x - n.w / 2 - 1.5, n.y - n.h / 2 - 1.5, n.w + 3, n.h + 3, 4);
    ctx.stroke();
  }
  const bottom = Math.max(...cells.map((c) => c.y + c.h / 2));
  const left = Math.min(...cells.map((c) => c.x - c.w / 2));
  const right = Math.max(...cells.map((c) => c.x + c.w / 2));
  // CPU ramp legend under the grid.
  const y = Math.min(layout.height - 12, bottom + 14);
  const rampW = Math.min(90, right - left - 150);
  if (rampW > 30 && y < layout.height - 4) {
    text(ctx, 'CPU 0%', left, y, 10, palette.muted, 500, 'left');
    const x0 = left + ctx.measureText('CPU 0%').width + 6;
    for (let i = 0; i < rampW; i++) {
      ctx.fillStyle = cpuColour(i / rampW);
      ctx.fillRect(x0 + i, y - 4, 1.2, 8);
    }
    text(ctx, '100%', x0 + rampW + 4, y, 10, palette.muted, 500, 'left');
    const rampEnd = x0 + rampW + 4 + ctx.measureText('100%').width;
    if (right - 84 > rampEnd + 10) {
      ctx.fillStyle = palette.ink;
      ctx.fillRect(right - 76, y - 0.75, 10, 1.5);
      text(ctx, 'send queue', right, y, 10, palette.muted, 500, 'right');
    }
  }
  if (groups.length) {
    const total = groups.reduce((sum, g) => sum + g.count, 0);
    const g0 = groups[0];
    const mid = (groups[0].y + groups[groups.length - 1].y) / 2;
    ctx.fillStyle = 'rgba(251, 252, 254, 0.92)';
    ctx.beginPath();
    ctx.roundRect(g0.x - g0.w / 2 + 4, mid - 24, g0.w - 8, 48, 8);
    ctx.fill();
    text(
      ctx,
      (g0.w < 110 ? formatCompact : formatCount)(total),
      g0.x,
      mid - 8,
      13,
      palette.ink,
      700,
    );
    text(
      ctx,
      `users · ${groups.length} groups`,
      g0.x,
      mid + 10,
      g0.w < 110 ? 9.5 : 10.5,
      palette.muted,
    );
  }
}

function drawMarks(
  ctx: CanvasRenderingContext2D,
  layout: TopologyLayout,
  marks: readonly Mark[],
): void {
  const grid = layout.mode === 'grid';
  const radius = grid ? 2 : 3;
  const spread = grid ? 0.8 : 2.6;
  for (const m of marks) {
    const r = m.record;
    const colour = markColour[r.kind];
    if (r.kind === 'drop') {
      const n = layout.byId.get(r.to) ?? layout.byId.get(r.from);
      if (!n) continue;
      ctx.globalAlpha = Math.max(0, m.fade);
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      const s = 5;
      ctx.beginPath();
      ctx.moveTo(n.x - s, n.y - s);
      ctx.lineTo(n.x + s, n.y + s);
      ctx.moveTo(n.x + s, n.y - s);
      ctx.lineTo(n.x - s, n.y + s);
      ctx.stroke();
      continue;
    }
    const e = edgeFor(layout, r.from, r.to);
    if (!e) continue;
    if (m.fade >= 1) {
      const [x, y0] = pointAt(e, m.progress);
      // Spread one message's many hop-1 copies into a bundle that meets at both ends.
      const lane = r.user >= 0 ? (Math.imul(r.user, 2654435761) >>> 0) % 9 : 4;
      const y = y0 + (lane - 4) * spread * Math.sin(Math.PI * m.progress);
      ctx.globalAlpha = 0.95;
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, Math.PI * 2);
      ctx.fill();
    } else if (!grid) {
      // Arrival: a ring that widens and fades at the edge's end (too busy to draw in the grid).
      const f = Math.max(0, m.fade);
      ctx.globalAlpha = f * (grid ? 0.3 : 0.6);
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(e.x1, e.y1, radius + (1 - f) * 7, 0, Math.PI * 2);
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
}
