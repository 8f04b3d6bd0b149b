// Paints the topology on a 2D canvas: edges by hop, nodes with live load, and the moving message marks.
import type { ServerStats } from '../../sim/types.ts';
import type { ClusterCondition, ServerCondition } from '../cluster/faults.ts';
import type { UserLinkMark } from '../cluster/links.ts';
import { formatCompact, formatCount, formatPercent } from '../format.ts';
import type { Mark } from '../motion.ts';
import { cpuColour, palette } from './palette.ts';
import type { StageChip } from './stages.ts';
import {
  edgeFor,
  handleAt,
  pointAt,
  userHandleAt,
  type EdgeGeom,
  type NodeGeom,
  type TopologyLayout,
} from './topology-layout.ts';

export interface DrawInput {
  layout: TopologyLayout;
  servers: Map<string, ServerStats>;
  marks: readonly Mark[];
  /** Reduced motion: no travelling dots; edges that carried traffic are drawn stronger instead. */
  still: boolean;
  hoverId: string | null;
  /** Servers to call out in grid mode (the hottest). */
  hottest: readonly string[];
  /** Cluster runs: what is down (drawn greyed, struck, outlined red). */
  condition?: ClusterCondition | null;
  /** The hops of the message hovered in the sequence diagram, drawn over everything. */
  highlight?: readonly [string, string][] | null;
  /** The node the sequence diagram is filtered to, outlined. */
  selectedId?: string | null;
  /** Cluster runs: users connected to each server now, shown in its user group. */
  liveUsers?: Map<string, number>;
  /** Cluster runs: per server, its user link slowed or cut (drawn dashed, with a label). */
  userLinks?: readonly (UserLinkMark | null)[];
  /** Feed layouts: the store's writer pool — busy share of its throughput and writes queued. */
  store?: StoreLoad | null;
}

export interface StoreLoad {
  busyShare: number;
  queuedWrites: number;
}

/** The failed look: a red outline on a grey fill, labels struck through. */
const failed = { fill: '#eef0f4', stroke: palette.drop, text: '#8a93a5' } as const;

function serverIndex(id: string): number {
  const m = /^server-(\d+)$/.exec(id);
  return m ? Number(m[1]) : -1;
}

function conditionOf(input: DrawInput, id: string): ServerCondition {
  const i = serverIndex(id);
  return (i >= 0 && input.condition?.servers[i]) || 'up';
}

/** Whether an edge touches a part that is down, so it is drawn greyed. */
function edgeDown(input: DrawInput, layout: TopologyLayout, e: EdgeGeom): boolean {
  const c = input.condition;
  if (!c) return false;
  if (
    c.brokerDown &&
    (layout.byId.get(e.from)?.kind === 'broker' || layout.byId.get(e.to)?.kind === 'broker')
  )
    return true;
  if (e.hop === 'hop1' && c.lbDown) return true;
  const down = (id: string) => {
    const k = conditionOf(input, id);
    return k !== 'up' && k !== 'draining';
  };
  return down(e.from) || down(e.to);
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
    const link = userLinkOf(input, layout, e);
    if (link && !edgeDown(input, layout, e)) {
      // A slowed or cut user link: dashed in its tone (the label is drawn over it later).
      ctx.globalAlpha = 0.9;
      ctx.strokeStyle = link.tone === 'cut' ? palette.drop : palette.max;
      ctx.lineWidth = grid ? 1.2 : 2;
      ctx.setLineDash(link.tone === 'cut' ? [4, 4] : [7, 3]);
      ctx.beginPath();
      ctx.moveTo(e.x0, e.y0);
      ctx.bezierCurveTo(e.c1x, e.c1y, e.c2x, e.c2y, e.x1, e.y1);
      ctx.stroke();
      ctx.setLineDash([]);
      continue;
    }
    const cut = partitioned(input, layout, e);
    if (cut || edgeDown(input, layout, e)) {
      ctx.globalAlpha = cut ? 0.85 : 0.35;
      ctx.strokeStyle = cut ? palette.drop : palette.faint;
      ctx.lineWidth = grid ? 1 : 1.4;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(e.x0, e.y0);
      ctx.bezierCurveTo(e.c1x, e.c1y, e.c2x, e.c2y, e.x1, e.y1);
      ctx.stroke();
      ctx.setLineDash([]);
      if (cut && !grid) drawCut(ctx, e);
      continue;
    }
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
  if (input.highlight?.length) drawHighlight(ctx, layout, input.highlight);

  for (const n of layout.nodes) {
    const state = n.kind === 'server' ? conditionOf(input, n.id) : 'up';
    if (n.kind === 'server') {
      if (grid) drawServerCell(ctx, n, servers.get(n.id), n.id === input.hoverId, state);
      else
        drawServerBox(
          ctx,
          n,
          servers.get(n.id),
          n.id === input.hoverId,
          state,
          input.condition ? 20 : 0,
        );
    } else if (n.kind === 'users') {
      const live = input.liveUsers?.get(n.id);
      if (grid) {
        ctx.fillStyle = n.id === input.hoverId ? palette.hop1 : 'rgba(11, 143, 128, 0.13)';
        ctx.fillRect(n.x - n.w / 2, n.y - n.h / 2, n.w, Math.max(1, n.h - 1));
      } else drawUsersBox(ctx, n, n.id === input.hoverId, live);
    } else if (layout.kind === 'feed' && n.kind === 'broker') drawStoreBox(ctx, n, input.store);
    else
      drawRoleBox(
        ctx,
        n,
        n.kind === 'broker' && input.condition?.brokerDown === true,
        layout.kind === 'feed' && n.kind === 'source'
          ? `${formatCount(n.count)} accounts`
          : (n.role ?? ''),
      );
    if (input.selectedId === n.id) drawSelected(ctx, n, grid && n.kind !== 'source');
  }
  if (grid) drawGridNotes(ctx, layout, servers, input.hottest);

  if (!still) drawMarks(ctx, layout, marks);
  if (layout.kind === 'protocol') drawProtocolLabels(ctx, layout);
  else if (layout.kind === 'feed') drawFeedLabels(ctx, layout);
  else {
    const marked = new Set(
      layout.edges.filter((e) => userLinkOf(input, layout, e)).map((e) => e.id),
    );
    // With user-link handles on the links' middles, the HOP 1 pill sits above its edge.
    drawHopLabels(ctx, layout, marked, input.userLinks !== undefined && !grid);
    if (!grid)
      for (const e of layout.edges) {
        const link = userLinkOf(input, layout, e);
        if (!link) continue;
        const [x, y] = userHandleAt(e);
        pill(ctx, link.label, x, y, link.tone === 'cut' ? palette.drop : palette.max);
      }
  }
  if (layout.stages.length) drawStages(ctx, layout.stages);
}

/** A stage's tone: hop 2's violet at the broker, slate on the servers, hop 1's teal on the connections. */
const STAGE_TONE: Record<StageChip['at'], { ink: string; fill: string }> = {
  broker: { ink: palette.hop2, fill: '#f2effd' },
  server: { ink: '#3d4a63', fill: '#eef1f6' },
  connection: { ink: palette.hop1, fill: '#e8f5f3' },
};

/** The shaping stages: a square-cornered chip each (unlike the round hop pills), with a dotted leader to what it acts on. */
function drawStages(ctx: CanvasRenderingContext2D, chips: readonly StageChip[]): void {
  for (const c of chips) {
    const tone = STAGE_TONE[c.at];
    const topY = c.y - c.h / 2;
    if (c.leader) {
      ctx.save();
      ctx.globalAlpha = 0.7;
      ctx.strokeStyle = tone.ink;
      ctx.lineWidth = 1;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(c.x, topY);
      ctx.lineTo(c.leader.x, c.leader.y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = tone.ink;
      ctx.beginPath();
      ctx.arc(c.leader.x, c.leader.y, 2.2, 0, Math.PI * 2);
      ctx.fill();
      ctx.restore();
    }
    ctx.beginPath();
    ctx.roundRect(c.x - c.w / 2, topY, c.w, c.h, 4);
    ctx.fillStyle = tone.fill;
    ctx.fill();
    ctx.strokeStyle = tone.ink;
    ctx.lineWidth = 1;
    ctx.stroke();
    const label = fitText(ctx, c.label, c.w - 10, 600, 10);
    text(ctx, label.value, c.x, c.y + 0.5, label.size, tone.ink, 600);
  }
}

/** A server → users edge's slow/cut mark, if any. */
function userLinkOf(input: DrawInput, layout: TopologyLayout, e: EdgeGeom): UserLinkMark | null {
  if (!input.userLinks || e.hop !== 'hop1' || layout.byId.get(e.to)?.kind !== 'users') return null;
  const s = serverIndex(e.from);
  return (s >= 0 && input.userLinks[s]) || null;
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

/**
 * A feed layout's two steps: WRITE on the way into the store (a post into feeds or a timeline),
 * SEEN on the fan out of it (a live push or a feed open), on its middle edge.
 */
function drawFeedLabels(ctx: CanvasRenderingContext2D, layout: TopologyLayout): void {
  const into = layout.edges.filter((e) => layout.byId.get(e.to)?.kind === 'broker');
  const out = layout.edges.filter((e) => layout.byId.get(e.from)?.kind === 'broker');
  if (into.length) {
    const [x, y] = pointAt(into[0], 0.5);
    pill(ctx, 'WRITE', x, y, edgeColour[into[0].hop]);
  }
  if (out.length) {
    const e = out[Math.floor((out.length - 1) / 2)];
    const [x, y] = pointAt(e, 0.45);
    pill(ctx, 'SEEN', x, y, edgeColour[e.hop]);
  }
}

/** A pill naming the hop on the first edge of each fan (broker → servers, servers → users). */
function drawHopLabels(
  ctx: CanvasRenderingContext2D,
  layout: TopologyLayout,
  /** Edges that carry their own label (a slowed or cut user link): the pill goes elsewhere. */
  skip: ReadonlySet<string> = new Set(),
  /** Lift the HOP 1 pill off its edge (the edge's middle holds a handle). */
  liftHop1 = false,
): void {
  for (const hop of ['hop2', 'hop1'] as const) {
    const all = layout.edges.filter(
      (e) => e.hop === hop && layout.byId.get(e.from)?.kind !== 'source',
    );
    const free = all.filter((e) => !skip.has(e.id));
    const fan = free.length ? free : all;
    if (!fan.length) continue;
    const e = fan.reduce((a, b) => (b.y1 < a.y1 ? b : a));
    const [x, midY] = pointAt(e, 0.5);
    const label = hop === 'hop2' ? 'HOP 2' : 'HOP 1';
    const lift = layout.mode === 'grid' || all.length === 1 || (hop === 'hop1' && liftHop1);
    const y = lift ? Math.max(40, midY - 16) : midY;
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

function drawRoleBox(
  ctx: CanvasRenderingContext2D,
  n: NodeGeom,
  down = false,
  /** The line under the name; by default the node's role. */
  caption = '',
): void {
  roundRect(ctx, n, 10);
  ctx.fillStyle = down ? failed.fill : palette.surface;
  ctx.fill();
  ctx.lineWidth = down ? 2 : 1.5;
  ctx.strokeStyle = down ? failed.stroke : n.kind === 'broker' ? palette.hop2 : palette.ingest;
  ctx.stroke();
  const label = fitText(ctx, n.label, n.w - 12, 600, 12.5);
  text(ctx, label.value, n.x, n.y - 8, label.size, down ? failed.text : palette.ink, 600);
  if (down) strike(ctx, label.value, n.x, n.y - 8, label.size, 600, 'center');
  const role = down
    ? 'DOWN'
    : caption || (n.id === 'turn' ? 'relay' : n.kind === 'broker' ? 'broker' : 'publisher');
  text(
    ctx,
    role,
    n.x,
    n.y + 10,
    down ? 10 : 11,
    down ? failed.stroke : palette.muted,
    down ? 700 : 400,
  );
}

/**
 * A feed store: its name, then its writer pool — a bar of the pool's busy share (as a server's
 * CPU bar) and the writes queued, which is where a fan-out on write piles up.
 */
function drawStoreBox(ctx: CanvasRenderingContext2D, n: NodeGeom, load?: StoreLoad | null): void {
  roundRect(ctx, n, 10);
  ctx.fillStyle = palette.surface;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = palette.hop2;
  ctx.stroke();
  const left = n.x - n.w / 2 + 10;
  const right = n.x + n.w / 2 - 10;
  const top = n.y - n.h / 2;
  const label = fitText(ctx, n.label, n.w - 20, 600, 12.5);
  text(ctx, label.value, left, top + 14, label.size, palette.ink, 600, 'left');
  if (n.h < 60) return;
  const busy = Math.min(1, load?.busyShare ?? 0);
  const queued = load?.queuedWrites ?? 0;
  text(ctx, 'writer pool', left, top + 32, 11, palette.muted, 400, 'left');
  text(
    ctx,
    `queue ${formatCompact(queued)}`,
    right,
    top + 32,
    11,
    queued > 0 ? palette.drop : palette.muted,
    400,
    'right',
  );
  const barY = n.y + n.h / 2 - 16;
  text(ctx, `busy ${formatPercent(busy)}`, left, barY - 7, 10, palette.muted, 500, 'left');
  ctx.fillStyle = palette.line;
  ctx.beginPath();
  ctx.roundRect(left, barY, right - left, 6, 3);
  ctx.fill();
  ctx.fillStyle = cpuColour(busy);
  ctx.beginPath();
  ctx.roundRect(left, barY, Math.max(2, (right - left) * busy), 6, 3);
  ctx.fill();
}

/** Fits a label to a width: a slightly smaller font first, then an ellipsis. */
function fitText(
  ctx: CanvasRenderingContext2D,
  value: string,
  maxW: number,
  weight: number,
  size: number,
): { value: string; size: number } {
  for (const s of [size, size - 1, size - 2]) {
    ctx.font = `${weight} ${s}px ${FONT}`;
    if (ctx.measureText(value).width <= maxW) return { value, size: s };
  }
  let v = value;
  while (v.length > 1 && ctx.measureText(`${v}…`).width > maxW) v = v.slice(0, -1);
  return { value: `${v.trimEnd()}…`, size: size - 2 };
}

/** A line through a label (the failed look). */
function strike(
  ctx: CanvasRenderingContext2D,
  value: string,
  x: number,
  y: number,
  size: number,
  weight: number,
  align: 'left' | 'center',
): void {
  ctx.font = `${weight} ${size}px ${FONT}`;
  const w = ctx.measureText(value).width;
  const x0 = align === 'center' ? x - w / 2 : x;
  ctx.strokeStyle = failed.stroke;
  ctx.lineWidth = 1.4;
  ctx.beginPath();
  ctx.moveTo(x0 - 1, y + 0.5);
  ctx.lineTo(x0 + w + 1, y + 0.5);
  ctx.stroke();
}

/** A red cross over the middle of a broker → server link cut by a partition. */
function drawCut(ctx: CanvasRenderingContext2D, e: EdgeGeom): void {
  const [x, y] = handleAt(e);
  ctx.globalAlpha = 1;
  ctx.fillStyle = palette.canvas;
  ctx.beginPath();
  ctx.arc(x, y, 8, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = palette.drop;
  ctx.lineWidth = 1.5;
  ctx.stroke();
  const s = 3.5;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x - s, y - s);
  ctx.lineTo(x + s, y + s);
  ctx.moveTo(x + s, y - s);
  ctx.lineTo(x - s, y + s);
  ctx.stroke();
}

function partitioned(input: DrawInput, layout: TopologyLayout, e: EdgeGeom): boolean {
  if (!input.condition || layout.byId.get(e.from)?.kind !== 'broker') return false;
  const i = serverIndex(e.to);
  return i >= 0 && input.condition.partitioned[i] === true;
}

/** The hovered message's path: its hops drawn strong over the fans. */
function drawHighlight(
  ctx: CanvasRenderingContext2D,
  layout: TopologyLayout,
  hops: readonly [string, string][],
): void {
  ctx.save();
  ctx.strokeStyle = palette.ink;
  ctx.globalAlpha = 0.85;
  ctx.lineWidth = layout.mode === 'grid' ? 2 : 3;
  ctx.lineCap = 'round';
  for (const [from, to] of hops) {
    const e = edgeFor(layout, from, to);
    if (!e) continue;
    ctx.beginPath();
    ctx.moveTo(e.x0, e.y0);
    ctx.bezierCurveTo(e.c1x, e.c1y, e.c2x, e.c2y, e.x1, e.y1);
    ctx.stroke();
  }
  ctx.restore();
}

/** The node the sequence diagram is filtered to: a dashed ring around it. */
function drawSelected(ctx: CanvasRenderingContext2D, n: NodeGeom, small: boolean): void {
  ctx.save();
  ctx.strokeStyle = palette.throughput;
  ctx.lineWidth = 2;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  const pad = small ? 2 : 4;
  ctx.roundRect(n.x - n.w / 2 - pad, n.y - n.h / 2 - pad, n.w + 2 * pad, n.h + 2 * pad, 12);
  ctx.stroke();
  ctx.restore();
}

const STATE_TEXT: Record<ServerCondition, string> = {
  up: '',
  down: 'CRASHED',
  draining: 'DRAINING',
  'shut-down': 'SHUT DOWN',
  absent: 'NOT JOINED',
};

function drawServerBox(
  ctx: CanvasRenderingContext2D,
  n: NodeGeom,
  s: ServerStats | undefined,
  hover: boolean,
  state: ServerCondition = 'up',
  /** Room kept free at the bottom right (the lab's ⋯ button). */
  room = 0,
): void {
  const left = n.x - n.w / 2 + 10;
  const compact = n.h < 60;
  const top = n.y - n.h / 2;
  if (state !== 'up' && state !== 'draining') {
    // Down, gone or not there yet: grey, struck through, outlined red (dashed while absent).
    roundRect(ctx, n, 10);
    ctx.fillStyle = failed.fill;
    ctx.fill();
    ctx.lineWidth = hover ? 2.5 : 2;
    ctx.strokeStyle = state === 'absent' ? palette.faint : failed.stroke;
    ctx.setLineDash(state === 'absent' ? [5, 4] : []);
    ctx.stroke();
    ctx.setLineDash([]);
    text(ctx, n.label, left, top + 13, 12.5, failed.text, 600, 'left');
    if (state !== 'absent') strike(ctx, n.label, left, top + 13, 12.5, 600, 'left');
    const badge = STATE_TEXT[state];
    text(
      ctx,
      badge,
      n.x + n.w / 2 - 10,
      top + 13,
      10,
      state === 'absent' ? palette.faint : failed.stroke,
      700,
      'right',
    );
    if (!compact)
      text(
        ctx,
        state === 'absent' ? 'joins on scale-out' : `${formatCount(s?.connections ?? 0)} conns`,
        left,
        top + 30,
        11,
        failed.text,
        400,
        'left',
      );
    return;
  }
  roundRect(ctx, n, 10);
  ctx.fillStyle = palette.surface;
  ctx.fill();
  ctx.lineWidth = hover ? 2.5 : 1.5;
  ctx.strokeStyle = hover ? palette.ink : state === 'draining' ? palette.max : palette.hop2;
  ctx.stroke();
  text(ctx, n.label, left, top + 13, 12.5, palette.ink, 600, 'left');
  if (state === 'draining')
    text(ctx, 'DRAINING', n.x + n.w / 2 - 10, top + 13, 10, palette.max, 700, 'right');
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
  } else if (state !== 'draining') {
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
  const barW = n.w - 20 - room;
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
  state: ServerCondition = 'up',
): void {
  const x = n.x - n.w / 2;
  const y = n.y - n.h / 2;
  if (state !== 'up' && state !== 'draining') {
    ctx.fillStyle = failed.fill;
    ctx.beginPath();
    ctx.roundRect(x, y, n.w, n.h, Math.min(4, n.w / 5));
    ctx.fill();
    ctx.strokeStyle = state === 'absent' ? palette.faint : failed.stroke;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    if (state !== 'absent') {
      ctx.beginPath();
      ctx.moveTo(x + 2, y + n.h - 2);
      ctx.lineTo(x + n.w - 2, y + 2);
      ctx.stroke();
    }
    return;
  }
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

function drawUsersBox(
  ctx: CanvasRenderingContext2D,
  n: NodeGeom,
  hover: boolean,
  live?: number,
): void {
  const empty = live === 0;
  roundRect(ctx, n, n.h / 2);
  ctx.fillStyle = empty ? 'rgba(152, 161, 178, 0.08)' : 'rgba(11, 143, 128, 0.08)';
  ctx.fill();
  ctx.lineWidth = hover ? 2.5 : 1.5;
  ctx.strokeStyle = empty ? palette.faint : palette.hop1;
  ctx.stroke();
  // The group's own label names its members: "1,000 users", "50 clients", "20,121 online".
  const label = fitText(ctx, `${formatCount(live ?? n.count)} ${n.label}`, n.w - 16, 600, 12);
  text(ctx, label.value, n.x, n.y, label.size, empty ? palette.faint : palette.ink, 600);
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
