// Places the topology's nodes and edges in a width × height box: columns by role, a grid when servers are many, a store and its readers for feeds.
import type { Topology, TopologyEdge, TopologyNode } from '../../sim/types.ts';
import { PROTOCOL_NAME, isProtocol } from '../guide.ts';
import { layoutStages, stageBandHeight, type StageChip } from './stages.ts';

export type LayoutMode = 'detail' | 'grid';

export interface NodeGeom {
  id: string;
  kind: TopologyNode['kind'];
  label: string;
  count: number;
  parent?: string;
  role?: string;
  /** Centre and size in px. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Position among the nodes of its kind (server 0, 1, …). */
  index: number;
}

export interface EdgeGeom {
  id: string;
  from: string;
  to: string;
  hop: TopologyEdge['hop'];
  /** A cubic Bézier: start, two control points, end. */
  x0: number;
  y0: number;
  c1x: number;
  c1y: number;
  c2x: number;
  c2y: number;
  x1: number;
  y1: number;
  /** How to draw edges the protocol layout adds: client uploads, peer-to-peer, TURN relay. */
  style?: 'upstream' | 'p2p' | 'relay';
}

export interface TopologyLayout {
  /**
   * The two-hop fan-out (source, Redis, servers, user groups), one protocol's client–server
   * link, or a feed store (authors write into it, follower groups read from it; no servers).
   */
  kind: 'two-hop' | 'protocol' | 'feed';
  mode: LayoutMode;
  width: number;
  height: number;
  nodes: NodeGeom[];
  byId: Map<string, NodeGeom>;
  edges: EdgeGeom[];
  /** Edges by "from→to", for placing trace records. */
  edgeByEnds: Map<string, EdgeGeom>;
  /** The user-group node attached to each server. */
  groupOfServer: Map<string, string>;
  columns: { label: string; x: number }[];
  /** Grid mode: the cell size of the server grid. */
  cell: number;
  /** Two-hop layouts: where the load balancer's chip sits, in the header row between servers and users. */
  balancer?: { x: number; y: number; w: number };
  /** Shaped runs: a chip per shaping stage, where it sits on the path (empty otherwise). */
  stages: StageChip[];
}

/** Above this many servers the layout switches from labelled boxes to a heat-map grid. */
export const DETAIL_MAX_SERVERS = 12;

const PAD = 14;
const HEADER = 26;
/** Room a grid's CPU legend takes under the cells (see drawGridNotes). */
export const GRID_LEGEND_H = 20;

/** A protocol scenario's topology: source → server → clients (+ a TURN relay for WebRTC). */
export function isProtocolTopology(topology: Topology): boolean {
  return topology.nodes.some((n) => n.kind === 'users' && n.id === 'clients');
}

/**
 * A feed topology (the fan-out model): no servers, and every user group hangs off a broker — a
 * store the groups read their feeds from, not a server they hold a connection to.
 */
export function isFeedTopology(topology: Topology): boolean {
  const stores = new Set(topology.nodes.filter((n) => n.kind === 'broker').map((n) => n.id));
  const groups = topology.nodes.filter((n) => n.kind === 'users');
  return (
    groups.length > 0 &&
    !topology.nodes.some((n) => n.kind === 'server') &&
    groups.every((g) => g.parent !== undefined && stores.has(g.parent))
  );
}

export function layoutTopology(topology: Topology, width: number, height: number): TopologyLayout {
  if (isProtocolTopology(topology)) return layoutProtocol(topology, width, height);
  if (isFeedTopology(topology)) return layoutFeed(topology, width, height);
  const ofKind = (kind: TopologyNode['kind']) => topology.nodes.filter((n) => n.kind === kind);
  const sources = ofKind('source');
  const brokers = ofKind('broker');
  const servers = ofKind('server');
  const serverIndex = new Map(servers.map((s, i) => [s.id, i]));
  // User groups in the order of their servers, so hop-1 edges run straight across.
  const groups = ofKind('users').sort(
    (a, b) =>
      (serverIndex.get(a.parent ?? '') ?? Infinity) - (serverIndex.get(b.parent ?? '') ?? Infinity),
  );
  const mode: LayoutMode = servers.length > DETAIL_MAX_SERVERS ? 'grid' : 'detail';
  const top = PAD + HEADER;

  const narrow = width < 760;
  const sourceW = narrow ? 104 : 124;
  const groupW = narrow ? (mode === 'grid' ? 84 : 100) : 128;
  // The middle column: server boxes, or the grid of server cells.
  const middleW =
    mode === 'grid' ? width * (narrow ? 0.3 : 0.36) : Math.min(narrow ? 150 : 176, width * 0.24);
  // The gaps between the four columns, weighted so the fans get the most room.
  const free = width - 2 * PAD - 2 * sourceW - middleW - groupW;
  const gapWeights = [0.6, 1.05, 1.35];
  const gaps = gapWeights.map((w) => (free * w) / 3);
  const xSource = PAD + sourceW / 2;
  const xBroker = xSource + sourceW + gaps[0];
  const xMiddle = xBroker + sourceW / 2 + gaps[1] + middleW / 2;
  const xUsers = width - PAD - groupW / 2;
  // Shaping stages on the servers and connections get a band under the fan, kept free here.
  const stages = topology.stages ?? [];
  const xLink = (xMiddle + middleW / 2 + xUsers - groupW / 2) / 2;
  const bandRowsH = stageBandHeight(stages, xMiddle, xLink, width, PAD);
  // Under a grid the CPU legend needs its own line above the chips.
  const bandH = bandRowsH && mode === 'grid' ? bandRowsH + GRID_LEGEND_H : bandRowsH;
  const bodyH = Math.max(40, height - top - PAD - bandH);
  const nodes: NodeGeom[] = [];
  const place = (n: TopologyNode, index: number, x: number, y: number, w: number, h: number) =>
    nodes.push({ ...n, x, y, w, h, index });

  const stack = (list: TopologyNode[], x: number, w: number, h: number) => {
    const gap = Math.min(h + 24, bodyH / Math.max(1, list.length));
    list.forEach((n, i) =>
      place(n, i, x, top + bodyH / 2 + (i - (list.length - 1) / 2) * gap, w, h),
    );
  };
  stack(sources, xSource, sourceW, 52);
  stack(brokers, xBroker, sourceW, 52);

  let cell = 0;
  if (mode === 'detail') {
    const n = Math.max(1, servers.length);
    const slot = bodyH / n;
    const serverH = Math.min(84, slot - 10);
    servers.forEach((s, i) => place(s, i, xMiddle, top + slot * (i + 0.5), middleW, serverH));
    const groupH = Math.min(46, serverH);
    groups.forEach((g, i) => {
      const parent = nodes.find((p) => p.id === g.parent);
      place(g, i, xUsers, parent ? parent.y : top + slot * (i + 0.5), groupW, groupH);
    });
  } else {
    // A grid of square cells in the middle band, sized as large as fits.
    const regionW = middleW;
    const x0 = xMiddle - regionW / 2;
    const n = servers.length;
    // The column count that gives the largest square cells; among near ties, the fewest empty slots.
    let cols = 1;
    let best = -Infinity;
    for (let c = 1; c <= n; c++) {
      const size = Math.min(regionW / c, bodyH / Math.ceil(n / c));
      const score = size - (Math.ceil(n / c) * c - n) * 0.05 * size;
      if (score > best) {
        best = score;
        cols = c;
      }
    }
    cell = Math.floor(Math.min(regionW / cols, bodyH / Math.ceil(n / cols)));
    const rows = Math.ceil(n / cols);
    const gridW = cols * cell;
    const gridH = rows * cell;
    const left = x0 + (regionW - gridW) / 2;
    const gridTop = top + (bodyH - gridH) / 2;
    const inset = cell > 14 ? 2 : 1;
    servers.forEach((s, i) => {
      const c = i % cols;
      const r = Math.floor(i / cols);
      place(s, i, left + (c + 0.5) * cell, gridTop + (r + 0.5) * cell, cell - inset, cell - inset);
    });
    const slot = bodyH / Math.max(1, groups.length);
    groups.forEach((g, i) =>
      place(g, i, xUsers, top + slot * (i + 0.5), groupW, Math.max(1, slot - (slot > 4 ? 1 : 0))),
    );
  }

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: EdgeGeom[] = [];
  for (const e of topology.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b) continue;
    const inGrid = (g: NodeGeom) => mode === 'grid' && g.kind === 'server';
    const x0 = inGrid(a) ? a.x : a.x + a.w / 2;
    const x1 = inGrid(b) ? b.x : b.x - b.w / 2;
    const dx = Math.max(20, x1 - x0) * 0.5;
    edges.push({
      ...e,
      x0,
      y0: a.y,
      c1x: x0 + dx,
      c1y: a.y,
      c2x: x1 - dx,
      c2y: b.y,
      x1,
      y1: b.y,
    });
  }
  const groupOfServer = new Map<string, string>();
  for (const g of groups) if (g.parent) groupOfServer.set(g.parent, g.id);

  const stageChips = stages.length
    ? placeStageChips(
        stages,
        nodes,
        edges,
        mode,
        width,
        xMiddle,
        xLink,
        top + bodyH + bandH - bandRowsH + 4,
      )
    : [];

  const colX = (list: TopologyNode[], fallback: number) =>
    list.length ? (byId.get(list[0].id)?.x ?? fallback) : fallback;
  const serverColX = mode === 'grid' ? xMiddle : colX(servers, xMiddle);
  return {
    kind: 'two-hop',
    mode,
    width,
    height,
    nodes,
    byId,
    edges,
    edgeByEnds: new Map(edges.map((e) => [`${e.from}→${e.to}`, e])),
    groupOfServer,
    columns: [
      { label: sources.length > 1 ? 'Sources' : 'Source', x: colX(sources, xSource) },
      { label: brokers[0]?.label ?? 'Broker', x: colX(brokers, xBroker) },
      {
        label: `${servers.length} WebSocket server${servers.length === 1 ? '' : 's'}`,
        x: serverColX,
      },
      { label: 'Users', x: xUsers },
    ],
    cell,
    balancer: {
      x: (xMiddle + middleW / 2 + xUsers - groupW / 2) / 2,
      y: PAD + 6,
      w: Math.max(60, xUsers - groupW / 2 - (xMiddle + middleW / 2) - 16),
    },
    stages: stageChips,
  };
}

/** The stage chips, anchored to the nodes and links as laid out. */
function placeStageChips(
  stages: NonNullable<Topology['stages']>,
  nodes: readonly NodeGeom[],
  edges: readonly EdgeGeom[],
  mode: LayoutMode,
  width: number,
  xServers: number,
  xLink: number,
  bandTop: number,
): StageChip[] {
  const broker = nodes.find((n) => n.kind === 'broker') ?? null;
  const servers = nodes.filter((n) => n.kind === 'server');
  const lowest = (list: readonly NodeGeom[]) =>
    list.reduce((m, n) => Math.max(m, n.y + n.h / 2), -Infinity);
  const serverBottom = lowest(servers);
  const groupsBottom = lowest(nodes.filter((n) => n.kind === 'users'));
  const fan = edges.filter(
    (e) => e.hop === 'hop1' && nodes.find((n) => n.id === e.to)?.kind === 'users',
  );
  const last = fan.reduce<EdgeGeom | null>((a, b) => (a && a.y1 >= b.y1 ? a : b), null);
  const [lx, ly] = last ? pointAt(last, 0.5) : [xLink, serverBottom];
  const grid = mode === 'grid';
  // A grid's legend sits under its cells; the chips go under the legend, without a leader through
  // it, and under the user groups, which may reach as low as the cells or lower.
  const clear = Math.max(grid ? serverBottom + GRID_LEGEND_H : serverBottom, groupsBottom, ly);
  return layoutStages(stages, {
    width,
    pad: PAD,
    broker,
    servers: { x: xServers, leaderY: grid ? null : serverBottom },
    xLink,
    link: { x: lx, y: ly },
    clear,
    bandTop,
  });
}

/** Where an edge's fault handle sits (a broker → server link's partition toggle). */
export function handleAt(e: EdgeGeom): [number, number] {
  // Near the server end, where the fan's edges are as far apart as the servers are.
  return pointAt(e, 0.8);
}

/**
 * Where a server → users link's handle (its slow/cut menu) and its condition label ("cut ⇄",
 * "cap 1 Mbit/s") sit: the middle of the link; the label is drawn where the handle's ring was.
 */
export function userHandleAt(e: EdgeGeom): [number, number] {
  return pointAt(e, 0.5);
}

/** Approximate width of a link label pill (10 px bold text + padding), for its button. */
export function userLabelWidth(label: string): number {
  return Math.round(label.length * 6.2 + 14);
}

/** The server → users edges (hop 1 of a two-hop layout), by server index. */
export function userEdges(layout: TopologyLayout): Map<number, EdgeGeom> {
  const out = new Map<number, EdgeGeom>();
  if (layout.kind !== 'two-hop') return out;
  for (const e of layout.edges) {
    const m = /^server-(\d+)$/.exec(e.from);
    if (m && e.hop === 'hop1' && layout.byId.get(e.to)?.kind === 'users') out.set(Number(m[1]), e);
  }
  return out;
}

/** A cubic edge between two boxes, leaving a's right side and entering b's left side (dy shifts both ends). */
function curve(
  e: Pick<EdgeGeom, 'id' | 'from' | 'to' | 'hop' | 'style'>,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): EdgeGeom {
  const dx = (x1 - x0) * 0.5;
  return { ...e, x0, y0, c1x: x0 + dx, c1y: y0, c2x: x1 - dx, c2y: y1, x1, y1 };
}

/**
 * Three columns: the update source, the server (named by its protocol) and the clients. The
 * clients' uploads run back to the server on a lane just below the downstream edge; for WebRTC a
 * loop under the clients carries peer-to-peer traffic and a TURN relay sits under the server.
 */
function layoutProtocol(topology: Topology, width: number, height: number): TopologyLayout {
  const top = PAD + HEADER;
  const bodyH = Math.max(60, height - top - PAD);
  const narrow = width < 760;
  const turnNode = topology.nodes.find((n) => n.id === 'turn');
  const sourceW = narrow ? 108 : 132;
  const serverW = narrow ? 140 : 176;
  const clientsW = narrow ? 116 : 140;
  const xSource = PAD + sourceW / 2;
  const xClients = width - PAD - clientsW / 2;
  const xServer = (xSource + sourceW / 2 + xClients - clientsW / 2) / 2;
  // With a P2P loop and a relay below, the main row sits higher.
  const yMain = top + bodyH * (turnNode ? 0.36 : 0.5);
  const nodes: NodeGeom[] = [];
  const place = (n: TopologyNode, x: number, y: number, w: number, h: number) =>
    nodes.push({ ...n, x, y, w, h, index: 0 });
  for (const n of topology.nodes) {
    if (n.kind === 'source') place(n, xSource, yMain, sourceW, 56);
    else if (n.kind === 'server') {
      const label = isProtocol(n.label) ? `${PROTOCOL_NAME[n.label]} server` : n.label;
      place({ ...n, label }, xServer, yMain, serverW, 84);
    } else if (n.id === 'clients') place(n, xClients, yMain, clientsW, 56);
    else if (n.id === 'turn')
      place(n, xServer, Math.min(top + bodyH - 30, yMain + bodyH * 0.42), sourceW, 48);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: EdgeGeom[] = [];
  const right = (n: NodeGeom) => n.x + n.w / 2;
  const left = (n: NodeGeom) => n.x - n.w / 2;
  for (const e of topology.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (a && b)
      edges.push(
        curve(
          e,
          right(a),
          a.y - (e.to === 'clients' ? 8 : 0),
          left(b),
          b.y - (e.to === 'clients' ? 8 : 0),
        ),
      );
  }
  const server = byId.get('server');
  const clients = byId.get('clients');
  if (server && clients) {
    // Uploads (chat messages, polls' requests): clients → server, drawn under the downstream edge.
    const up = curve(
      { id: 'clients->server', from: 'clients', to: 'server', hop: 'hop2', style: 'upstream' },
      left(clients),
      clients.y + 10,
      right(server),
      server.y + 10,
    );
    edges.push(up);
    const turn = byId.get('turn');
    if (turn) {
      // Peer to peer: a loop under the clients box, from one side of the group to the other.
      const y0 = clients.y + clients.h / 2;
      const depth = Math.min(90, bodyH * 0.38);
      edges.push({
        id: 'clients->clients',
        from: 'clients',
        to: 'clients',
        hop: 'hop1',
        style: 'p2p',
        x0: clients.x - clients.w * 0.3,
        y0,
        c1x: clients.x - clients.w * 0.75,
        c1y: y0 + depth,
        c2x: clients.x + clients.w * 0.75,
        c2y: y0 + depth,
        x1: clients.x + clients.w * 0.3,
        y1: y0,
      });
      edges.push(
        curve(
          { id: 'clients->turn', from: 'clients', to: 'turn', hop: 'hop1', style: 'relay' },
          left(clients),
          clients.y + clients.h / 2 - 6,
          right(turn),
          turn.y,
        ),
      );
    }
  }
  const protocol = topology.nodes.find((n) => n.kind === 'server')?.label ?? '';
  return {
    kind: 'protocol',
    mode: 'detail',
    width,
    height,
    nodes,
    byId,
    edges,
    edgeByEnds: new Map(edges.map((e) => [`${e.from}→${e.to}`, e])),
    groupOfServer: new Map(),
    columns: [
      { label: 'Update source', x: xSource },
      { label: isProtocol(protocol) ? `${PROTOCOL_NAME[protocol]} server` : 'Server', x: xServer },
      { label: 'Clients', x: xClients },
    ],
    cell: 0,
    stages: [],
  };
}

/**
 * Three columns: the writers (sources), the store (broker) and its readers' groups stacked on
 * the right, one fan from the store to them. Names come from the topology's own labels; the
 * readers' column is "Followers" (groups that read a store follow whoever writes into it).
 */
function layoutFeed(topology: Topology, width: number, height: number): TopologyLayout {
  const top = PAD + HEADER;
  const bodyH = Math.max(60, height - top - PAD);
  const narrow = width < 760;
  const sourceW = narrow ? 112 : 132;
  const storeW = narrow ? 150 : 176;
  const groupW = narrow ? 150 : 176;
  const ofKind = (kind: TopologyNode['kind']) => topology.nodes.filter((n) => n.kind === kind);
  const sources = ofKind('source');
  const stores = ofKind('broker');
  const groups = ofKind('users');
  const xSource = PAD + sourceW / 2;
  const xGroups = width - PAD - groupW / 2;
  // The store sits left of the middle: the fan to the groups needs more room than one edge.
  const free = xGroups - groupW / 2 - (xSource + sourceW / 2) - storeW;
  const xStore = xSource + sourceW / 2 + free * 0.42 + storeW / 2;
  const yMid = top + bodyH / 2;
  const nodes: NodeGeom[] = [];
  const column = (list: TopologyNode[], x: number, w: number, h: number, gapPx: number) => {
    const slot = Math.min(h + gapPx, bodyH / Math.max(1, list.length));
    const boxH = Math.min(h, slot - 6);
    list.forEach((n, i) =>
      nodes.push({ ...n, x, y: yMid + (i - (list.length - 1) / 2) * slot, w, h: boxH, index: i }),
    );
  };
  column(sources, xSource, sourceW, 56, 24);
  column(stores, xStore, storeW, 84, 24);
  column(groups, xGroups, groupW, 40, 22);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: EdgeGeom[] = [];
  for (const e of topology.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (a && b) edges.push(curve(e, a.x + a.w / 2, a.y, b.x - b.w / 2, b.y));
  }
  return {
    kind: 'feed',
    mode: 'detail',
    width,
    height,
    nodes,
    byId,
    edges,
    edgeByEnds: new Map(edges.map((e) => [`${e.from}→${e.to}`, e])),
    groupOfServer: new Map(),
    columns: [
      { label: sources.length === 1 ? sources[0].label : 'Sources', x: xSource },
      { label: stores[0]?.label ?? 'Store', x: xStore },
      { label: 'Followers', x: xGroups },
    ],
    cell: 0,
    stages: [],
  };
}

/** The edge a trace record travels; hop-1 records may name a user, so fall back to its group. */
export function edgeFor(layout: TopologyLayout, from: string, to: string): EdgeGeom | undefined {
  const direct = layout.edgeByEnds.get(`${from}→${to}`);
  if (direct) return direct;
  const group = layout.groupOfServer.get(from);
  return group ? layout.edgeByEnds.get(`${from}→${group}`) : undefined;
}

/** Point at parameter t (0..1) along an edge's Bézier. */
export function pointAt(e: EdgeGeom, t: number): [number, number] {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return [a * e.x0 + b * e.c1x + c * e.c2x + d * e.x1, a * e.y0 + b * e.c1y + c * e.c2y + d * e.y1];
}

/** The node under a point (for hover), or undefined. */
export function nodeAt(layout: TopologyLayout, x: number, y: number): NodeGeom | undefined {
  for (let i = layout.nodes.length - 1; i >= 0; i--) {
    const n = layout.nodes[i];
    if (Math.abs(x - n.x) <= n.w / 2 + 1 && Math.abs(y - n.y) <= n.h / 2 + 1) return n;
  }
  return undefined;
}
