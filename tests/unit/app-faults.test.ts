// Fault views: which parts a schedule leaves down, what a click injects, labels, and the timeline's geometry.
import { describe, expect, it } from 'vitest';
import { faultSchema, type Fault } from '../../src/scenario/schema.ts';
import type { FaultRecord } from '../../src/sim/types.ts';
import {
  brokerToggle,
  clusterCondition,
  conditionFromState,
  faultEntries,
  faultLabel,
  hitUnit,
  lbToggle,
  partitionHeal,
  partitionToggle,
  serverToggle,
  slowLinkFault,
  userLinkCut,
  userPartitionFault,
} from '../../src/app/cluster/faults.ts';
import { partitionStrip } from '../../src/app/cluster/groups.ts';
import { userLinkMarks, userLinkMenu } from '../../src/app/cluster/links.ts';
import { serverColour } from '../../src/app/viz/connections.ts';
import type { ClusterState } from '../../src/sim/types.ts';
import { connectionsGeometry } from '../../src/app/viz/connections.ts';
import { timelineGeometry } from '../../src/app/viz/fault-timeline.ts';

function fault(kind: Fault['kind'], atS: number, target = 0, forS = 0): Fault {
  // Through the schema, so every field the core adds gets its default.
  return faultSchema.parse({ kind, atS, target, forS });
}
function record(f: Fault, hit: number, recoveredAtS: number | null = null): FaultRecord {
  return { kind: f.kind, atS: f.atS, target: f.target, hit, recoveredAtS, applied: true };
}

const name = (s: number) => `WS ${s + 1}`;

describe('the cluster condition', () => {
  const schedule = [
    fault('server-crash', 30, 1, 20),
    fault('scale-out', 70),
    fault('broker-down', 40),
    fault('partition', 45, 2),
    fault('graceful-shutdown', 60, 0),
  ];
  const records = [
    record(schedule[0], 1200, 50),
    record(schedule[1], 1),
    record(schedule[2], 17),
    record(schedule[3], 900),
    record(schedule[4], 1000),
  ];
  const entries = faultEntries(records, schedule, 5);

  it('gives a scale-out the server that joined and keeps the rest targeted', () => {
    expect(entries.map((e) => e.server)).toEqual([1, 5, null, 2, 0]);
  });

  it('replays fired faults up to now', () => {
    const at35 = clusterCondition(entries, 35, 5, 6, 10);
    expect(at35.servers).toEqual(['up', 'down', 'up', 'up', 'up', 'absent']);
    expect(at35.brokerDown).toBe(false);
    const at65 = clusterCondition(entries, 65, 5, 6, 10);
    expect(at65.servers).toEqual(['draining', 'up', 'up', 'up', 'up', 'absent']);
    expect(at65.brokerDown).toBe(true);
    expect(at65.partitioned).toEqual([false, false, true, false, false, false]);
    const at90 = clusterCondition(entries, 90, 5, 6, 10);
    expect(at90.servers).toEqual(['shut-down', 'up', 'up', 'up', 'up', 'up']);
  });

  it('counts a crash of a server that is already down as doing nothing', () => {
    const s = [
      fault('server-crash', 1, 0),
      fault('server-crash', 2, 0),
      fault('server-restart', 3, 0),
    ];
    const r = [record(s[0], 10, 3), record(s[1], 0), record(s[2], 1)];
    const c = clusterCondition(faultEntries(r, s, 2), 4, 2, 2, 10);
    expect(c.servers).toEqual(['up', 'up']);
    expect([...c.noEffect]).toEqual([1]);
  });

  it('keeps a server down when a crash that did nothing ends: only the crash that took it down restarts it', () => {
    // Clicked crash at 12 s (stays down), then the scenario's crash at 30 s for 10 s: a no-op
    // with nothing to recover (the model schedules no recovery for it).
    const s = [fault('server-crash', 30, 1, 10), fault('server-crash', 12, 1)];
    const r = [{ ...record(s[0], 0), applied: false }, record(s[1], 1000)];
    const e = faultEntries(r, s, 3);
    expect(clusterCondition(e, 35, 3, 3, 10).servers[1]).toBe('down');
    const c = clusterCondition(e, 45, 3, 3, 10);
    expect(c.servers[1]).toBe('down');
    expect([...c.noEffect]).toEqual([0]);
    const g = timelineGeometry(e, ['a', 'b'], {
      width: 500,
      nowS: 45,
      durationS: 60,
      drainS: 10,
      noEffect: c.noEffect,
    });
    const [clicked, noop] = g.rows;
    expect(noop.barEndX).toBeNull();
    expect(clicked.open).toBe(true);
  });

  it('counts a schedule entry the snapshot has not reported yet as not fired', () => {
    const s = [fault('broker-down', 5)];
    const e = faultEntries([], s, 3);
    expect(e[0]).toMatchObject({ kind: 'broker-down', hit: 0, recoveredAtS: null, forS: 0 });
    expect(clusterCondition(e, 4, 3, 3, 10).brokerDown).toBe(false);
    expect(clusterCondition(e, 5, 3, 3, 10).brokerDown).toBe(true);
  });
});

describe('clicks', () => {
  it('toggle a fault left open and its heal', () => {
    expect(serverToggle('up', 2)).toEqual({
      kind: 'server-crash',
      target: 2,
      forS: 0,
      loseState: true,
    });
    expect(serverToggle('down', 2)).toEqual({ kind: 'server-restart', target: 2 });
    expect(serverToggle('shut-down', 2)).toBeNull();
    expect(serverToggle('absent', 2)).toBeNull();
    expect(brokerToggle(false)).toEqual({ kind: 'broker-down', forS: 0 });
    expect(brokerToggle(true)).toEqual({ kind: 'broker-up' });
    expect(lbToggle(true)).toEqual({ kind: 'lb-up' });
    expect(partitionToggle(false, 1)).toEqual({ kind: 'partition', target: 1, forS: 0 });
    expect(partitionToggle(true, 1)).toEqual({ kind: 'partition-heal', target: 1 });
  });
});

describe('labels', () => {
  it('say what, where and what it hit', () => {
    const s = [fault('server-crash', 30, 1), fault('broker-down', 40), fault('scale-out', 70)];
    const e = faultEntries([record(s[0], 1200), record(s[1], 35), record(s[2], 1)], s, 3);
    expect(faultLabel(e[0], name, 60)).toBe('server-crash · WS 2 · hit 1,200 connections');
    expect(faultLabel(e[1], name, 60)).toBe('broker-down · hit 35 messages');
    expect(faultLabel(e[2], name, 60)).toBe('scale-out · WS 4 · at 70 s');
    expect(faultLabel(e[2], name, 80)).toBe('scale-out · WS 4 · joined');
  });
});

describe('the fault timeline', () => {
  const s = [
    fault('server-crash', 30, 1, 20),
    fault('server-crash', 60, 0),
    fault('server-restart', 70, 0),
    fault('mass-disconnect', 75),
    fault('lb-down', 80),
    fault('broker-down', 500),
  ];
  const r = [
    record(s[0], 1200, 50),
    record(s[1], 900, 70),
    record(s[2], 1),
    record(s[3], 3000),
    record(s[4], 2900),
    record(s[5], 0),
  ];
  const entries = faultEntries(r, s, 3);
  const labels = entries.map((e) => faultLabel(e, name, 90));
  const g = timelineGeometry(entries, labels, { width: 700, nowS: 90, durationS: 100, drainS: 10 });

  it('draws one row per fault in time order, heals folded into the bar they close', () => {
    expect(g.rows.map((row) => row.kind)).toEqual([
      'server-crash',
      'server-crash',
      'mass-disconnect',
      'lb-down',
    ]);
    expect(g.afterEnd).toBe(1);
    const ys = g.rows.map((row) => row.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
  });

  it('ends bars at the recovery, marks a clicked heal, and extends open faults to now', () => {
    const [scheduled, clicked, instant, open] = g.rows;
    const x = (s: number) => (s / 100) * g.innerWidth;
    expect(scheduled.x).toBeCloseTo(x(30));
    expect(scheduled.barEndX).toBeCloseTo(x(50));
    expect(scheduled.healed).toBe(false);
    expect(clicked.barEndX).toBeCloseTo(x(70));
    expect(clicked.healed).toBe(true);
    expect(instant.barEndX).toBeNull();
    expect(open.open).toBe(true);
    expect(open.barEndX).toBeCloseTo(x(90));
    expect(g.nowX).toBeCloseTo(x(90));
  });

  it('keeps labels inside the width', () => {
    for (const row of g.rows) {
      const w = row.label.length * 6.4;
      if (row.labelAnchor === 'start') expect(row.labelX + w).toBeLessThanOrEqual(g.innerWidth + 1);
      else expect(row.labelX - w).toBeGreaterThanOrEqual(-1);
    }
  });
});

describe('the connections chart', () => {
  const rows = [
    [100, 100, 100],
    [150, 0, 150],
    [150, 0, 150, 0],
    [150, 20, 150, 30],
  ];
  it('draws one line per server, including servers that joined later', () => {
    const g = connectionsGeometry(rows, {
      width: 600,
      height: 200,
      intervalS: 1,
      durationS: 10,
      stacked: false,
      formatY: String,
      faults: [{ atS: 1.5, kind: 'server-crash' }],
    });
    expect(g.paths.map((p) => p.last)).toEqual([150, 20, 150, 30]);
    expect(g.paths.every((p) => p.d.startsWith('M'))).toBe(true);
    expect(g.marks).toHaveLength(1);
    expect(g.lastX).toBeCloseTo((4 / 10) * g.innerWidth);
  });
  it('stacks servers so the top is the total', () => {
    const g = connectionsGeometry(rows, {
      width: 600,
      height: 200,
      intervalS: 1,
      durationS: 10,
      stacked: true,
      formatY: String,
    });
    expect(g.paths).toHaveLength(4);
    expect(g.yTicks.at(-1)!.at).toBeLessThanOrEqual(g.innerHeight);
  });
});

/** A fault with shape fields (groups, slow-link figures), through the schema for the defaults. */
function shaped(kind: Fault['kind'], atS: number, extra: Partial<Fault>): Fault {
  return faultSchema.parse({ kind, atS, ...extra });
}

describe('user links: slow, cut and heal', () => {
  it('builds slow-link and user partition faults the schema accepts', () => {
    expect(slowLinkFault(1, { bandwidthMbps: 1 })).toEqual({
      kind: 'slow-link',
      target: 1,
      forS: 20,
      bandwidthMbps: 1,
    });
    expect(userPartitionFault(1, 'to-server')).toEqual({
      kind: 'partition',
      target: 1,
      from: 'users',
      to: 'server:1',
      oneWay: true,
      forS: 0,
    });
    expect(userPartitionFault(1, 'to-users')).toMatchObject({
      from: 'server:1',
      to: 'users',
      oneWay: true,
    });
    expect(userPartitionFault(1, 'both')).toMatchObject({
      from: 'server:1',
      to: 'users',
      oneWay: false,
    });
    for (const f of [
      slowLinkFault(0, { extraLatencyMs: 200 }),
      slowLinkFault(0, { lossProbability: 0.05 }),
      userPartitionFault(2, 'to-server'),
      partitionHeal({ from: 'users', to: 'server:2', oneWay: true, target: 2 }),
    ])
      expect(() => faultSchema.parse(f)).not.toThrow();
    // A heal names the same groups and direction; a plain broker partition's heal stays plain.
    expect(partitionHeal({ from: 'server:1', to: 'users', oneWay: true, target: 1 })).toEqual({
      kind: 'partition-heal',
      target: 1,
      from: 'server:1',
      to: 'users',
      oneWay: true,
    });
    expect(partitionHeal({ target: 3 })).toEqual(partitionToggle(true, 3));
  });

  it('tells which way a partition cuts a server from its users', () => {
    expect(userLinkCut({ from: 'users', to: 'server:2', oneWay: true })).toEqual({
      servers: 2,
      cut: 'to-server',
    });
    expect(userLinkCut({ from: 'server:2', to: 'users:1', oneWay: true })).toEqual({
      servers: 2,
      cut: 'to-users',
    });
    expect(userLinkCut({ from: 'servers', to: 'users', oneWay: false })).toEqual({
      servers: 'all',
      cut: 'both',
    });
    expect(userLinkCut({ from: 'broker', to: 'server:2', oneWay: false })).toBeNull();
    expect(userLinkCut({ from: 'region:0', to: 'region:1', oneWay: false })).toBeNull();
  });

  // 3 servers: a one-way cut of WS 2's users at 10 s, healed at 20 s; the other way at 15 s (open);
  // a duplicate of the open one at 16 s (no effect); a slow link on WS 1 at 12 s for 20 s and a
  // second one at 14 s (no effect: already slowed); regions cut apart at 18 s.
  const schedule = [
    shaped('partition', 10, { from: 'users', to: 'server:1', oneWay: true }),
    shaped('partition', 15, { from: 'server:1', to: 'users', oneWay: true }),
    shaped('partition', 16, { from: 'server:1', to: 'users', oneWay: true }),
    shaped('slow-link', 12, { target: 0, forS: 20, bandwidthMbps: 1 }),
    shaped('slow-link', 14, { target: 0, forS: 20, extraLatencyMs: 200 }),
    shaped('partition', 18, { from: 'region:0', to: 'region:1' }),
    shaped('partition-heal', 20, { from: 'users', to: 'server:1', oneWay: true }),
  ];
  const entries = faultEntries([], schedule, 3);

  it('keeps group partitions off the broker links (no server) and gives slow links theirs', () => {
    expect(entries.map((e) => e.server)).toEqual([null, null, null, 0, 0, null, null]);
    expect(entries[0]).toMatchObject({ from: 'users', to: 'server:1', oneWay: true });
    expect(entries[3]).toMatchObject({ bandwidthMbps: 1, extraLatencyMs: 0 });
  });

  it('replays user cuts, heals and slow links between a click and the next snapshot', () => {
    const at11 = clusterCondition(entries, 11, 3, 3, 10);
    expect(at11.usersCut).toEqual(['none', 'to-server', 'none']);
    expect(at11.partitioned).toEqual([false, false, false]);
    const at17 = clusterCondition(entries, 17, 3, 3, 10);
    expect(at17.usersCut).toEqual(['none', 'both', 'none']);
    expect(at17.slowLink).toEqual([true, false, false]);
    expect(at17.slowBy[0]?.index).toBe(3);
    expect([...at17.noEffect].sort()).toEqual([2, 4]);
    const at25 = clusterCondition(entries, 25, 3, 3, 10);
    // The heal at 20 s closed the users → WS 2 cut; WS 2 → users is still open.
    expect(at25.usersCut).toEqual(['none', 'to-users', 'none']);
    expect(at25.userCuts[1].map((e) => e.index)).toEqual([1]);
    // Region partitions never mark a broker link.
    expect(at25.partitioned).toEqual([false, false, false]);
    const at40 = clusterCondition(entries, 40, 3, 3, 10);
    expect(at40.slowLink).toEqual([false, false, false]);
  });

  it('reads slow links from the model state when the snapshot is fresh', () => {
    const state: ClusterState = {
      servers: ['up', 'up', 'up'],
      brokerCut: [false, false, false],
      slowLink: [false, false, true],
      brokerUp: true,
      lbUp: true,
      partitions: 1,
      scaleOutRoom: 0,
      rebalancing: false,
    };
    const records = schedule.map((f, i) => ({
      ...record(f, 10),
      applied: i !== 2 && i !== 4,
    }));
    const c = conditionFromState(state, faultEntries(records, schedule, 3), 17);
    expect(c.slowLink).toEqual([false, false, true]);
    expect(c.usersCut[1]).toBe('both');
    expect([...c.noEffect].sort()).toEqual([2, 4]);
  });

  it('draws and offers what the link can still take', () => {
    const c = clusterCondition(entries, 17, 3, 3, 10);
    expect(userLinkMarks(c)).toEqual([
      { tone: 'slow', label: '1 Mbit/s' },
      { tone: 'cut', label: 'cut ⇄' },
      null,
    ]);
    const slowMenu = userLinkMenu(0, c, name);
    expect(slowMenu.status).toEqual(['slowed: cap 1 Mbit/s, until 32 s']);
    expect(slowMenu.items.filter((i) => i.group === 'slow').every((i) => i.fault === null)).toBe(
      true,
    );
    expect(slowMenu.slowNote).toMatch(/no heal/);
    const cutMenu = userLinkMenu(1, c, name);
    expect(cutMenu.items.map((i) => i.key)).toEqual([
      'slow',
      'lossy',
      'cap',
      'cut-up',
      'cut-down',
      'cut-both',
      'heal-0',
      'heal-1',
    ]);
    expect(cutMenu.items.find((i) => i.key === 'cut-both')?.fault).toBeNull();
    expect(cutMenu.items.find((i) => i.key === 'heal-0')?.fault).toEqual({
      kind: 'partition-heal',
      target: 0,
      from: 'users',
      to: 'server:1',
      oneWay: true,
    });
    const at25 = userLinkMenu(1, clusterCondition(entries, 25, 3, 3, 10), name);
    expect(at25.items.filter((i) => i.key.startsWith('heal')).map((i) => i.label)).toEqual([
      'Heal',
    ]);
    expect(at25.items.find((i) => i.key === 'cut-up')?.fault).not.toBeNull();
    expect(at25.items.find((i) => i.key === 'cut-down')?.fault).toBeNull();
  });

  it('labels the new shapes on the timeline', () => {
    const records = schedule.map((f, i) => ({
      ...record(f, [120, 300, 0, 800, 0, 2000, 1][i]),
      applied: i !== 2 && i !== 4,
    }));
    const e = faultEntries(records, schedule, 3);
    const noEffect = new Set([2, 4]);
    const label = (i: number) => faultLabel(e[i], name, 30, noEffect);
    expect(label(0)).toBe('partition · users → WS 2 (one way) · hit 120 connections cut off');
    expect(label(1)).toBe('partition · WS 2 → users (one way) · hit 300 connections cut off');
    expect(label(2)).toBe('partition · WS 2 → users (one way) · no effect: already cut');
    expect(label(3)).toBe('slow-link · WS 1 · cap 1 Mbit/s for 20 s · hit 800 connections slowed');
    expect(label(4)).toBe('slow-link · WS 1 · +200 ms for 20 s · no effect: link already slowed');
    expect(label(5)).toBe('partition · region:0 ⇄ region:1 · hit 2,000 connections cut off');
    expect(hitUnit('slow-link')).toBe('connections slowed');
    // A plain broker ↔ server partition reads as before.
    const plain = [fault('partition', 5, 2)];
    expect(faultLabel(faultEntries([record(plain[0], 9)], plain, 3)[0], name, 6)).toBe(
      'partition · WS 3 · hit 9 connections cut off',
    );
  });

  it('draws timed slow links with their planned end and no-effect faults as marks', () => {
    const records = schedule.map((f, i) => ({ ...record(f, 10), applied: i !== 4 }));
    const e = faultEntries(records, schedule, 3);
    const g = timelineGeometry(e, [], {
      width: 600,
      nowS: 20,
      durationS: 60,
      drainS: 10,
      noEffect: new Set([4]),
    });
    const slow = g.rows.find((r) => r.index === 3)!;
    const x = (s: number) => (s / 60) * g.innerWidth;
    expect(slow.open).toBe(true);
    expect(slow.barEndX).toBeCloseTo(x(20));
    expect(slow.plannedEndX).toBeCloseTo(x(32));
    const noop = g.rows.find((r) => r.index === 4)!;
    expect(noop.noEffect).toBe(true);
    expect(noop.barEndX).toBeNull();
    expect(g.rows.filter((r) => r.noEffect)).toHaveLength(1);
  });
});

describe('the consumer group strip', () => {
  it('colours each partition by its owner and sums the shares', () => {
    const s = partitionStrip([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], false, name);
    expect(s.cells).toHaveLength(12);
    expect(s.cells[4]).toMatchObject({
      partition: 4,
      label: 'P4',
      owner: 1,
      colour: serverColour(1),
      title: 'P4 → WS 2',
    });
    expect(s.owners.map((o) => [o.name, o.partitions])).toEqual([
      ['WS 1', 4],
      ['WS 2', 4],
      ['WS 3', 4],
    ]);
    expect(s.unowned).toBe(0);
    expect(s.aggregated).toBe(false);
    expect(s.summary).toBe('12 partitions over 3 servers');
  });

  it('shows partitions without an owner after a crash and while rebalancing', () => {
    const crashed = partitionStrip([-1, 1, 2, -1, 1, 2], false, name);
    expect(crashed.unowned).toBe(2);
    expect(crashed.cells[0]).toMatchObject({ owner: -1, colour: null });
    expect(crashed.cells[0].title).toBe('P0: no owner (its owner is gone)');
    expect(crashed.summary).toBe('6 partitions over 2 servers; 2 waiting for an owner');
    const revoked = partitionStrip([-1, -1, -1], true, name);
    expect(revoked.summary).toBe('rebalancing: all of 3 revoked');
    expect(revoked.cells[2].title).toMatch(/rebalances/);
    expect(partitionStrip([], false, name).cells).toEqual([]);
  });

  it('sums a big topic into shares instead of one cell per partition', () => {
    const owners = Array.from({ length: 100 }, (_, p) => p % 4);
    const s = partitionStrip(owners, false, name);
    expect(s.aggregated).toBe(true);
    expect(s.owners.map((o) => o.partitions)).toEqual([25, 25, 25, 25]);
  });
});
