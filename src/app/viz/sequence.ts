// Message-sequence-diagram geometry with d3: one lifeline per node, time flowing down with idle gaps folded, one arrow per trace record.
import { scaleLinear } from 'd3';
import type { Topology, TopologyNode, TraceRecord } from '../../sim/types.ts';
import { isProtocol, PROTOCOL_NAME } from '../guide.ts';

export interface Lifeline {
  /** The lifeline's id: a node id, or OTHER_SERVERS / OTHER_USERS for the grouped rest. */
  id: string;
  label: string;
  /** A second line under the label: the node's role, or the server a user group is on. */
  sub: string;
  kind: TopologyNode['kind'] | 'other';
  x: number;
}

export interface SequenceArrow {
  key: string;
  record: TraceRecord;
  from: string;
  to: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** SVG path: a straight arrow, or a loop for a node sending to itself (peer to peer). */
  d: string;
}

export interface SequenceTick {
  y: number;
  label: string;
}

/** A folded idle stretch of time between two busy segments. */
export interface SequenceBreak {
  y: number;
  gapUs: number;
}

export interface SequenceLayout {
  width: number;
  height: number;
  /** Where lifelines start (below their headers) and end. */
  top: number;
  bottom: number;
  left: number;
  lifelines: Lifeline[];
  arrows: SequenceArrow[];
  ticks: SequenceTick[];
  breaks: SequenceBreak[];
  /** Messages drawn, and the simulated time they span. */
  messages: number;
  startUs: number;
  endUs: number;
}

export const OTHER_SERVERS = 'other-servers';
export const OTHER_USERS = 'other-users';

const HEADER_PX = 40;
const AXIS_PX = 66;
const BREAK_PX = 18;

/** Lifeline order: publishers, brokers, servers, relays, users. */
function rank(n: TopologyNode): number {
  if (n.kind === 'source') return 0;
  if (n.kind === 'broker') return n.id === 'turn' ? 3 : 1;
  if (n.kind === 'server') return 2;
  return 4;
}

/**
 * Maps a record's endpoint to a topology node: ids the topology knows map to themselves; a hop-1
 * record that names a user maps to the user group of the server it came from.
 */
export function endpointNode(topology: Topology, id: string, from?: string): string {
  if (topology.nodes.some((n) => n.id === id)) return id;
  const group = topology.nodes.find((n) => n.kind === 'users' && n.parent === from);
  return group?.id ?? id;
}

/** Records with both ends mapped to topology nodes (user ids to their group). */
export function normaliseRecords(
  topology: Topology,
  records: readonly TraceRecord[],
): TraceRecord[] {
  const known = new Set(topology.nodes.map((n) => n.id));
  return records.map((r) =>
    known.has(r.from) && known.has(r.to)
      ? r
      : {
          ...r,
          from: endpointNode(topology, r.from),
          to: endpointNode(topology, r.to, r.from),
        },
  );
}

/**
 * The records of messages that passed through `nodeId`, each message cut to the path through it:
 * what led to the node (upstream) and what went on from it (downstream).
 */
export function filterThrough(records: readonly TraceRecord[], nodeId: string): TraceRecord[] {
  const byMessage = groupByMessage(records);
  const out: TraceRecord[] = [];
  for (const list of byMessage.values()) {
    if (!list.some((r) => r.from === nodeId || r.to === nodeId)) continue;
    const up = new Set([nodeId]);
    const down = new Set([nodeId]);
    // Walk the message's records back to the source and on to the receivers.
    for (let changed = true; changed;) {
      changed = false;
      for (const r of list) {
        if (up.has(r.to) && !up.has(r.from)) {
          up.add(r.from);
          changed = true;
        }
        if (down.has(r.from) && !down.has(r.to)) {
          down.add(r.to);
          changed = true;
        }
      }
    }
    for (const r of list) if (up.has(r.to) || down.has(r.from)) out.push(r);
  }
  return out;
}

function groupByMessage(records: readonly TraceRecord[]): Map<number, TraceRecord[]> {
  const byMessage = new Map<number, TraceRecord[]>();
  for (const r of records) {
    const list = byMessage.get(r.messageId);
    if (list) list.push(r);
    else byMessage.set(r.messageId, [r]);
  }
  return byMessage;
}

/** The last `count` messages (by when they started), with all their records, oldest first. */
export function lastMessages(records: readonly TraceRecord[], count: number): TraceRecord[] {
  const firstUs = new Map<number, number>();
  for (const r of records) {
    const t = firstUs.get(r.messageId);
    if (t === undefined || r.startUs < t) firstUs.set(r.messageId, r.startUs);
  }
  const keep = new Set(
    [...firstUs.entries()]
      .sort((a, b) => a[1] - b[1] || a[0] - b[0])
      .slice(-Math.max(0, count))
      .map(([id]) => id),
  );
  return records
    .filter((r) => keep.has(r.messageId))
    .sort((a, b) => a.startUs - b.startUs || a.messageId - b.messageId || a.endUs - b.endUs);
}

/**
 * The lifelines for a topology. With more than `maxServers` servers, the servers that carry the
 * most of the drawn records keep their own lifeline and the rest share one ("other servers"), and
 * likewise their user groups.
 */
export function lifelinesFor(
  topology: Topology,
  records: readonly TraceRecord[],
  maxServers = 6,
): { nodes: Omit<Lifeline, 'x'>[]; laneOf: (nodeId: string) => string } {
  const servers = topology.nodes.filter((n) => n.kind === 'server');
  let kept = new Set(servers.map((s) => s.id));
  if (servers.length > maxServers) {
    const load = new Map<string, number>();
    const byId = new Map(topology.nodes.map((n) => [n.id, n]));
    for (const r of records)
      for (const id of [r.from, r.to]) {
        const node = byId.get(id);
        const sid = node?.kind === 'users' ? node.parent : id;
        if (sid && kept.has(sid)) load.set(sid, (load.get(sid) ?? 0) + 1);
      }
    const busiest = servers
      .map((s, i) => ({ id: s.id, n: load.get(s.id) ?? 0, i }))
      .sort((a, b) => b.n - a.n || a.i - b.i)
      .slice(0, maxServers - 1);
    kept = new Set(busiest.map((b) => b.id));
  }
  const grouped = servers.length > kept.size;
  const label = new Map(servers.map((s) => [s.id, s.label]));
  const nodes: Omit<Lifeline, 'x'>[] = [];
  const ordered = topology.nodes
    .map((n, i) => ({ n, i }))
    .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
    .map((o) => o.n);
  let otherServersAt = -1;
  for (const n of ordered) {
    if (n.kind === 'server' && !kept.has(n.id)) {
      if (otherServersAt < 0) otherServersAt = nodes.length;
      continue;
    }
    if (n.kind === 'users' && n.parent && !kept.has(n.parent) && servers.length > 0) continue;
    const head =
      n.kind === 'users'
        ? {
            label: n.id === 'clients' ? 'Clients' : 'Users',
            sub:
              n.id !== 'clients' && n.parent && label.has(n.parent)
                ? `on ${label.get(n.parent)}`
                : 'receivers',
          }
        : heading(n);
    nodes.push({ id: n.id, ...head, kind: n.kind });
  }
  if (grouped) {
    const others = servers.length - kept.size;
    nodes.splice(Math.max(0, otherServersAt), 0, {
      id: OTHER_SERVERS,
      label: `${others} more`,
      sub: 'servers',
      kind: 'other',
    });
    nodes.push({ id: OTHER_USERS, label: 'Users', sub: `on ${others} more`, kind: 'other' });
  }
  const ids = new Set(nodes.map((n) => n.id));
  const parentOf = new Map(topology.nodes.map((n) => [n.id, n]));
  const laneOf = (nodeId: string): string => {
    if (ids.has(nodeId)) return nodeId;
    const n = parentOf.get(nodeId);
    if (n?.kind === 'server') return OTHER_SERVERS;
    if (n?.kind === 'users') return OTHER_USERS;
    return nodeId;
  };
  return { nodes, laneOf };
}

/** A node's lifeline heading: short, with the rest of its name (or its role) on the line below. */
function heading(n: TopologyNode): { label: string; sub: string } {
  if (n.kind === 'source')
    return { label: 'Source', sub: n.count > 1 ? `${n.count} publishers` : 'publisher' };
  if (n.kind === 'server' && isProtocol(n.label))
    return { label: PROTOCOL_NAME[n.label], sub: 'server' };
  const paren = /^(.*?)\s*\((.*)\)$/.exec(n.label);
  if (paren) return { label: paren[1], sub: paren[2] };
  const space = n.label.indexOf(' ');
  if (n.kind === 'broker' && space > 0)
    return { label: n.label.slice(0, space), sub: n.label.slice(space + 1) };
  return { label: n.label, sub: n.kind === 'broker' ? 'broker' : 'server' };
}

/**
 * The shortest idle gap worth folding: long against the shown span and against a message's own
 * duration, so overlapping traffic stays on one linear axis and only real lulls fold.
 */
export function foldGapUs(records: readonly TraceRecord[]): number {
  if (!records.length) return 0;
  let start = Infinity;
  let end = -Infinity;
  for (const r of records) {
    if (r.startUs < start) start = r.startUs;
    if (r.endUs > end) end = r.endUs;
  }
  const durations = [...groupByMessage(records).values()]
    .map((list) => Math.max(...list.map((r) => r.endUs)) - Math.min(...list.map((r) => r.startUs)))
    .sort((a, b) => a - b);
  const median = durations[Math.floor(durations.length / 2)];
  return Math.max(2_000, (end - start) / 8, 2 * median);
}

/** Busy stretches: each message's span, merged when they overlap or nearly touch. */
export function busySegments(
  records: readonly TraceRecord[],
  mergeGapUs: number,
): [number, number][] {
  const spans = [...groupByMessage(records).values()]
    .map((list): [number, number] => [
      Math.min(...list.map((r) => r.startUs)),
      Math.max(...list.map((r) => Math.max(r.endUs, r.startUs))),
    ])
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of spans) {
    const last = out[out.length - 1];
    if (last && s - last[1] <= mergeGapUs) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

export interface FoldedScale {
  y: (us: number) => number;
  ticks: SequenceTick[];
  breaks: SequenceBreak[];
}

/**
 * A time scale for [top, bottom] that spends the height on the busy segments and folds each idle
 * gap between them into a fixed break, so sparse messages stay readable. Within a segment, time is
 * linear (d3 scales); each segment gets at least a minimum height.
 */
export function foldedTimeScale(
  segments: readonly [number, number][],
  top: number,
  bottom: number,
): FoldedScale {
  if (!segments.length) return { y: () => top, ticks: [], breaks: [] };
  const breaks = segments.length - 1;
  const free = Math.max(10, bottom - top - breaks * BREAK_PX);
  const durations = segments.map(([s, e]) => Math.max(1, e - s));
  const minPx = Math.min(56, free / segments.length);
  const total = durations.reduce((a, b) => a + b, 0);
  const spare = free - minPx * segments.length;
  const heights = durations.map((d) => minPx + (spare * d) / total);
  const scales: { s: number; e: number; scale: (us: number) => number; y0: number; y1: number }[] =
    [];
  let y = top;
  const out: FoldedScale = { y: () => top, ticks: [], breaks: [] };
  segments.forEach(([s, e], i) => {
    const y1 = y + heights[i];
    const scale = scaleLinear()
      .domain([s, Math.max(e, s + 1)])
      .range([y, y1]);
    scales.push({ s, e, scale, y0: y, y1 });
    const count = Math.max(1, Math.floor(heights[i] / 56));
    // Each segment is labelled where it starts, then at round times while labels keep apart
    // and differ (a segment of a few ms would otherwise repeat its start label).
    out.ticks.push({ y, label: formatUs(s) });
    let lastY = y;
    for (const t of scale.ticks(count)) {
      const at = scale(t);
      const label = formatUs(t);
      if (at - lastY < 16 || y1 - at < 6 || label === out.ticks[out.ticks.length - 1].label)
        continue;
      out.ticks.push({ y: at, label });
      lastY = at;
    }
    y = y1;
    if (i < breaks) {
      out.breaks.push({ y: y + BREAK_PX / 2, gapUs: segments[i + 1][0] - e });
      y += BREAK_PX;
    }
  });
  out.y = (us: number) => {
    for (let i = 0; i < scales.length; i++) {
      const sc = scales[i];
      if (us <= sc.e || i === scales.length - 1) {
        if (us < sc.s) return i === 0 ? sc.y0 : scales[i - 1].y1 + BREAK_PX / 2;
        return Math.min(sc.y1, sc.scale(us));
      }
    }
    return bottom;
  };
  return out;
}

/** Simulated µs as an axis label: "12.345 s". */
export function formatUs(us: number): string {
  return `${(us / 1e6).toFixed(3)} s`;
}

export interface SequenceOptions {
  width: number;
  height: number;
  maxServers?: number;
  /** Arrows of one message between the same two lifelines beyond this are not drawn (they overlap). */
  maxPerLanePair?: number;
}

/** Arrows drawn at most: SVG stays responsive with a few hundred. */
export const MAX_ARROWS = 600;

/** Lays out the diagram for records already chosen (see lastMessages and filterThrough). */
export function sequenceLayout(
  topology: Topology,
  records: readonly TraceRecord[],
  options: SequenceOptions,
): SequenceLayout {
  const { width, height } = options;
  const { nodes, laneOf } = lifelinesFor(topology, records, options.maxServers ?? 6);
  const left = AXIS_PX;
  const right = 16;
  const usable = Math.max(40, width - left - right);
  const step = usable / Math.max(1, nodes.length);
  const lifelines: Lifeline[] = nodes.map((n, i) => ({ ...n, x: left + step * (i + 0.5) }));
  const xOf = new Map(lifelines.map((l) => [l.id, l.x]));
  const top = HEADER_PX + 8;
  const bottom = height - 10;
  const segments = busySegments(records, foldGapUs(records));
  const scale = foldedTimeScale(segments, top, bottom);
  const arrows: SequenceArrow[] = [];
  const loopW = Math.min(26, step * 0.35);
  // A big fan-out draws many identical arrows (one message, same two lifelines): keep a few.
  const perPair = new Map<string, number>();
  const maxPerPair = options.maxPerLanePair ?? 3;
  records.forEach((r, i) => {
    if (arrows.length >= MAX_ARROWS) return;
    const from = laneOf(r.from);
    const to = laneOf(r.to);
    const x0 = xOf.get(from);
    const x1 = xOf.get(to);
    if (x0 === undefined || x1 === undefined) return;
    const pair = `${r.messageId}|${r.kind}|${from}|${to}`;
    const seen = perPair.get(pair) ?? 0;
    if (seen >= maxPerPair) return;
    perPair.set(pair, seen + 1);
    const y0 = scale.y(r.startUs);
    const y1 = Math.max(y0, scale.y(r.endUs));
    let d: string;
    if (from === to) {
      // A node sending to itself (peer to peer inside a client group): a loop to the right.
      const dy = Math.max(8, y1 - y0);
      d = `M${x0},${y0} C${x0 + loopW},${y0} ${x0 + loopW},${y0 + dy} ${x0 + 2},${y0 + dy}`;
    } else d = `M${x0},${y0} L${x1},${y1}`;
    arrows.push({
      key: `${r.messageId}:${r.kind}:${r.from}:${r.to}:${r.user}:${i}`,
      record: r,
      from,
      to,
      x0,
      y0,
      x1,
      y1,
      d,
    });
  });
  return {
    width,
    height,
    top,
    bottom,
    left,
    lifelines,
    arrows,
    ticks: scale.ticks,
    breaks: scale.breaks,
    messages: new Set(records.map((r) => r.messageId)).size,
    startUs: segments.length ? segments[0][0] : 0,
    endUs: segments.length ? segments[segments.length - 1][1] : 0,
  };
}

/** The hops a message's records travelled, as [from, to] node pairs (for highlighting its path). */
export function pathOfMessage(
  topology: Topology,
  records: readonly TraceRecord[],
): [string, string][] {
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const r of normaliseRecords(topology, records)) {
    const key = `${r.from}→${r.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([r.from, r.to]);
  }
  return out;
}
