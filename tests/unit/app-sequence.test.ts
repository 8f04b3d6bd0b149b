// Sequence-diagram geometry: lifeline order and grouping, message selection and filtering, the folded time axis, arrows.
import { describe, expect, it } from 'vitest';
import type { Topology, TraceRecord } from '../../src/sim/types.ts';
import {
  busySegments,
  filterThrough,
  foldGapUs,
  foldedTimeScale,
  lastMessages,
  lifelinesFor,
  normaliseRecords,
  OTHER_SERVERS,
  OTHER_USERS,
  pathOfMessage,
  sequenceLayout,
} from '../../src/app/viz/sequence.ts';

function cluster(servers: number): Topology {
  const nodes: Topology['nodes'] = [
    { id: 'source', kind: 'source', label: '1 source', count: 1 },
    { id: 'broker', kind: 'broker', label: 'Redis pub/sub', count: 1 },
  ];
  const edges: Topology['edges'] = [
    { id: 'source->broker', from: 'source', to: 'broker', hop: 'hop2' },
  ];
  for (let s = 0; s < servers; s++) {
    nodes.push({ id: `server-${s}`, kind: 'server', label: `WS ${s + 1}`, count: 100 });
    edges.push({ id: `broker->server-${s}`, from: 'broker', to: `server-${s}`, hop: 'hop2' });
  }
  for (let s = 0; s < servers; s++) {
    nodes.push({
      id: `users-${s}`,
      kind: 'users',
      label: 'users',
      count: 10,
      parent: `server-${s}`,
    });
    edges.push({
      id: `server-${s}->users-${s}`,
      from: `server-${s}`,
      to: `users-${s}`,
      hop: 'hop1',
    });
  }
  return { nodes, edges };
}

function rec(
  messageId: number,
  kind: TraceRecord['kind'],
  from: string,
  to: string,
  startUs: number,
  endUs: number,
  user = -1,
): TraceRecord {
  return {
    kind,
    messageId,
    from,
    to,
    startUs,
    endUs,
    channel: messageId % 3,
    seq: messageId,
    user,
  };
}

/** One message: publish, hop 2 to every server, hop 1 to a user on each. */
function message(id: number, t0: number, servers: number): TraceRecord[] {
  const out = [rec(id, 'publish', 'source', 'broker', t0, t0 + 500)];
  for (let s = 0; s < servers; s++) {
    out.push(rec(id, 'hop2', 'broker', `server-${s}`, t0 + 500, t0 + 1_500));
    out.push(rec(id, 'hop1', `server-${s}`, `users-${s}`, t0 + 1_500, t0 + 30_000 + s * 1_000, s));
  }
  return out;
}

describe('lifelines', () => {
  it('orders publishers, brokers, servers, then users, labelled by role and server', () => {
    const { nodes } = lifelinesFor(cluster(3), []);
    expect(nodes.map((n) => n.id)).toEqual([
      'source',
      'broker',
      'server-0',
      'server-1',
      'server-2',
      'users-0',
      'users-1',
      'users-2',
    ]);
    expect(nodes[5]).toMatchObject({ label: 'Users', sub: 'on WS 1' });
    expect(nodes[1]).toMatchObject({ label: 'Redis', sub: 'pub/sub' });
    expect(nodes[0]).toMatchObject({ label: 'Source', sub: 'publisher' });
  });

  it('keeps the busiest servers and groups the rest when there are many', () => {
    const records = [...message(1, 0, 1), rec(2, 'hop2', 'broker', 'server-7', 0, 10)];
    const { nodes, laneOf } = lifelinesFor(cluster(10), records, 4);
    const servers = nodes.filter((n) => n.kind === 'server').map((n) => n.id);
    expect(servers).toEqual(['server-0', 'server-1', 'server-7']);
    expect(nodes.some((n) => n.id === OTHER_SERVERS && n.label === '7 more')).toBe(true);
    expect(laneOf('server-5')).toBe(OTHER_SERVERS);
    expect(laneOf('users-5')).toBe(OTHER_USERS);
    expect(laneOf('users-7')).toBe('users-7');
  });
});

describe('choosing messages', () => {
  const records = [...message(1, 0, 3), ...message(2, 100_000, 3), ...message(3, 200_000, 3)];

  it('keeps the last N messages with all their records, in time order', () => {
    const last = lastMessages(records, 2);
    expect(new Set(last.map((r) => r.messageId))).toEqual(new Set([2, 3]));
    expect(last).toHaveLength(14);
    for (let i = 1; i < last.length; i++)
      expect(last[i].startUs).toBeGreaterThanOrEqual(last[i - 1].startUs);
  });

  it('filters to the path through a server: publish, its hop 2, its hop 1', () => {
    const through = filterThrough(message(1, 0, 3), 'server-1');
    expect(through.map((r) => `${r.kind} ${r.from}->${r.to}`)).toEqual([
      'publish source->broker',
      'hop2 broker->server-1',
      'hop1 server-1->users-1',
    ]);
  });

  it('filters to everything through the broker, and only matching messages', () => {
    expect(filterThrough(records, 'broker')).toHaveLength(records.length);
    const only = [...message(1, 0, 1), rec(9, 'hop2', 'broker', 'server-2', 0, 1)];
    expect(new Set(filterThrough(only, 'users-0').map((r) => r.messageId))).toEqual(new Set([1]));
  });

  it('maps a record naming a user to the group of the server it came from', () => {
    const [r] = normaliseRecords(cluster(2), [rec(1, 'hop1', 'server-1', 'user-42', 0, 1)]);
    expect(r.to).toBe('users-1');
  });

  it('names the hops of a message for the topology highlight', () => {
    expect(pathOfMessage(cluster(2), message(1, 0, 2))).toEqual([
      ['source', 'broker'],
      ['broker', 'server-0'],
      ['server-0', 'users-0'],
      ['broker', 'server-1'],
      ['server-1', 'users-1'],
    ]);
  });
});

describe('the folded time axis', () => {
  it('merges overlapping messages and splits at idle gaps', () => {
    const records = [...message(1, 0, 1), ...message(2, 10_000, 1), ...message(3, 5_000_000, 1)];
    expect(busySegments(records, 2_000)).toEqual([
      [0, 40_000],
      [5_000_000, 5_030_000],
    ]);
  });

  it('maps time downwards, monotonically, with a break for each gap', () => {
    const scale = foldedTimeScale(
      [
        [0, 40_000],
        [5_000_000, 5_030_000],
      ],
      50,
      450,
    );
    expect(scale.breaks).toHaveLength(1);
    expect(scale.breaks[0].gapUs).toBe(4_960_000);
    expect(scale.y(0)).toBe(50);
    expect(scale.y(5_030_000)).toBeCloseTo(450);
    let prev = -Infinity;
    for (const t of [0, 10_000, 40_000, 1_000_000, 5_000_000, 5_010_000, 5_030_000]) {
      expect(scale.y(t)).toBeGreaterThanOrEqual(prev);
      prev = scale.y(t);
    }
    // The idle gap costs a fixed break, not 99% of the height.
    expect(scale.y(5_000_000) - scale.y(40_000)).toBeLessThan(30);
    expect(scale.ticks[0]).toEqual({ y: 50, label: '0.000 s' });
  });
});

describe('folding', () => {
  it('keeps overlapping traffic linear and folds only real lulls', () => {
    const busy = [...message(1, 0, 1), ...message(2, 35_000, 1), ...message(3, 70_000, 1)];
    // Messages last 30 ms and follow each other every 35 ms: gaps of 5 ms stay unfolded.
    expect(foldGapUs(busy)).toBeGreaterThanOrEqual(60_000);
    expect(busySegments(busy, foldGapUs(busy))).toHaveLength(1);
    const sparse = [...message(1, 0, 1), ...message(2, 2_000_000, 1)];
    expect(busySegments(sparse, foldGapUs(sparse))).toHaveLength(2);
  });

  it('never repeats a label on the axis of a very short segment', () => {
    const scale = foldedTimeScale([[1_000_000, 1_000_400]], 0, 300);
    const labels = scale.ticks.map((t) => t.label);
    expect(new Set(labels).size).toBe(labels.length);
  });
});

describe('sequenceLayout', () => {
  it('draws one arrow per record between the lifelines, downwards, inside the plot', () => {
    const records = lastMessages([...message(1, 0, 3), ...message(2, 20_000, 3)], 10);
    const layout = sequenceLayout(cluster(3), records, { width: 700, height: 400 });
    expect(layout.arrows).toHaveLength(records.length);
    expect(layout.messages).toBe(2);
    const x = new Map(layout.lifelines.map((l) => [l.id, l.x]));
    for (const a of layout.arrows) {
      expect(a.x0).toBe(x.get(a.from));
      expect(a.x1).toBe(x.get(a.to));
      expect(a.y1).toBeGreaterThanOrEqual(a.y0);
      expect(a.y0).toBeGreaterThanOrEqual(layout.top);
      expect(a.y1).toBeLessThanOrEqual(layout.bottom + 0.001);
      expect(a.d.startsWith(`M${a.x0},${a.y0}`)).toBe(true);
    }
    // Lifelines spread across the width, left to right.
    const xs = layout.lifelines.map((l) => l.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(xs.at(-1)!).toBeLessThan(700);
  });

  it("draws a few of a big fan-out's identical arrows, not all of them", () => {
    const fan = [rec(1, 'publish', 'source', 'broker', 0, 500)];
    for (let u = 0; u < 100; u++)
      fan.push(rec(1, 'hop1', 'server-0', 'users-0', 600, 30_000 + u, u));
    const layout = sequenceLayout(cluster(1), fan, { width: 600, height: 300 });
    expect(layout.arrows.filter((a) => a.record.kind === 'hop1')).toHaveLength(3);
  });

  it('draws a node sending to itself as a loop and an empty diagram without arrows', () => {
    const topology: Topology = {
      nodes: [
        { id: 'server', kind: 'server', label: 'webrtc', count: 1 },
        { id: 'clients', kind: 'users', label: 'clients', count: 10, parent: 'server' },
      ],
      edges: [],
    };
    const layout = sequenceLayout(topology, [rec(1, 'hop1', 'clients', 'clients', 0, 5_000)], {
      width: 500,
      height: 300,
    });
    expect(layout.arrows[0].d).toContain('C');
    expect(sequenceLayout(cluster(2), [], { width: 500, height: 300 }).arrows).toEqual([]);
  });
});
