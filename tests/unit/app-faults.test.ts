// Fault views: which parts a schedule leaves down, what a click injects, labels, and the timeline's geometry.
import { describe, expect, it } from 'vitest';
import { faultSchema, type Fault } from '../../src/scenario/schema.ts';
import type { FaultRecord } from '../../src/sim/types.ts';
import {
  brokerToggle,
  clusterCondition,
  faultEntries,
  faultLabel,
  lbToggle,
  partitionToggle,
  serverToggle,
} from '../../src/app/cluster/faults.ts';
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
