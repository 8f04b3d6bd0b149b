// The lab's shaping views: stage chips on the topology, the claims card's formats and run count, the shaping panel's figures, the picker's groups.
import { describe, expect, it } from 'vitest';
import { getScenario, listScenarios } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { evaluateClaims } from '../../src/sim/claims.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { PriorityClassStats, Topology, TopologyStage } from '../../src/sim/types.ts';
import { scenarioGroups } from '../../src/scenario/groups.ts';
import {
  claimRunCount,
  codeSpans,
  formatBand,
  formatClaimValue,
  formatTolerance,
  rerunCommand,
  verdictText,
} from '../../src/app/shaping/claims-format.ts';
import {
  classRows,
  encodingRows,
  encodingScaleMax,
  guideSizes,
  savedGroups,
} from '../../src/app/shaping/figures.ts';
import { formatCpuUs, formatPerSec } from '../../src/app/shaping/format.ts';
import { CHIP_H, chipWidth, packChips, type StageChip } from '../../src/app/viz/stages.ts';
import { GRID_LEGEND_H, layoutTopology, type NodeGeom } from '../../src/app/viz/topology-layout.ts';

async function topologyOf(id: string, overrides: Record<string, number | string> = {}) {
  const sim = await createSimulation(resolveRun(getScenario(id), overrides, 1));
  const topology = sim.topology();
  sim.dispose();
  return topology;
}

type Box = { x: number; y: number; w: number; h: number };
const overlaps = (a: Box, b: Box) =>
  Math.abs(a.x - b.x) * 2 < a.w + b.w && Math.abs(a.y - b.y) * 2 < a.h + b.h;

/** Every chip inside the box, no two chips overlapping, and none on a node. */
function expectReadable(chips: StageChip[], nodes: NodeGeom[], width: number, height: number) {
  for (const c of chips) {
    expect(c.x - c.w / 2).toBeGreaterThanOrEqual(0);
    expect(c.x + c.w / 2).toBeLessThanOrEqual(width);
    expect(c.y - c.h / 2).toBeGreaterThanOrEqual(0);
    expect(c.y + c.h / 2).toBeLessThanOrEqual(height);
    for (const n of nodes) expect(overlaps(c, n), `${c.label} on ${n.id}`).toBe(false);
  }
  for (let i = 0; i < chips.length; i++)
    for (let j = i + 1; j < chips.length; j++)
      expect(overlaps(chips[i], chips[j]), `${chips[i].label} / ${chips[j].label}`).toBe(false);
}

describe('stage chips', () => {
  it('packs chips into rows near their centres without overlap, inside the bounds', () => {
    const items = [
      { cx: 100, w: 80 },
      { cx: 110, w: 60 },
      { cx: 300, w: 90 },
      { cx: 20, w: 50 },
      { cx: 590, w: 120 },
    ];
    const placed = packChips(items, 10, 600);
    for (const p of placed) {
      expect(p.x - p.w / 2).toBeGreaterThanOrEqual(10);
      expect(p.x + p.w / 2).toBeLessThanOrEqual(600);
    }
    for (let i = 0; i < placed.length; i++)
      for (let j = i + 1; j < placed.length; j++)
        if (placed[i].row === placed[j].row)
          expect(
            Math.abs(placed[i].x - placed[j].x) * 2 >= placed[i].w + placed[j].w,
            `${i} and ${j}`,
          ).toBe(true);
    // The far chip keeps its place: it had room on the first row.
    expect(placed[2]).toMatchObject({ x: 300, row: 0 });
    // Two chips wanting the same spot: the second goes to the next row or next to the first.
    expect(placed[0].row !== placed[1].row || Math.abs(placed[0].x - placed[1].x) >= 70).toBe(true);
  });

  it('caps a long label and never packs a chip wider than the span', () => {
    expect(chipWidth('x'.repeat(200))).toBeLessThanOrEqual(250);
    const [p] = packChips([{ cx: 50, w: 400 }], 0, 100);
    expect(p.w).toBe(100);
    expect(p.x).toBe(50);
  });

  it('puts one chip per stage where it acts: batching on the connections of two servers', async () => {
    const topology = await topologyOf('batching');
    expect(topology.stages).toEqual([
      { name: 'batching', at: 'connection', label: 'batch 100 ms' },
    ]);
    for (const width of [1100, 650]) {
      const layout = layoutTopology(topology, width, 360);
      expect(layout.stages).toHaveLength(1);
      const [chip] = layout.stages;
      const servers = layout.nodes.filter((n) => n.kind === 'server');
      const groups = layout.nodes.filter((n) => n.kind === 'users');
      // Between the servers' column and the users', under the lowest link, pointing at it.
      expect(chip.x).toBeGreaterThan(Math.min(...servers.map((s) => s.x)));
      expect(chip.x).toBeLessThan(Math.max(...groups.map((g) => g.x)));
      expect(chip.leader).not.toBeNull();
      expect(chip.leader!.y).toBeLessThan(chip.y);
      expectReadable(layout.stages, layout.nodes, width, 360);
    }
  });

  it('stacks broker stages under the broker and server stages under the servers', async () => {
    const subs = layoutTopology(await topologyOf('subscriptions'), 1000, 360);
    const broker = subs.nodes.find((n) => n.kind === 'broker')!;
    expect(subs.stages).toHaveLength(1);
    expect(subs.stages[0].x).toBeCloseTo(broker.x);
    expect(subs.stages[0].y - CHIP_H / 2).toBeGreaterThan(broker.y + broker.h / 2);
    expectReadable(subs.stages, subs.nodes, 1000, 360);

    const throttling = layoutTopology(await topologyOf('throttling'), 700, 280);
    const at = Object.fromEntries(throttling.stages.map((c) => [c.at, c]));
    const server = throttling.nodes.find((n) => n.kind === 'server')!;
    expect(at.server.x).toBeCloseTo(server.x, 0);
    expect(at.connection.x).toBeGreaterThan(at.server.x);
    expectReadable(throttling.stages, throttling.nodes, 700, 280);
  });

  it('stays readable with every stage on 100 servers, at 700 px and on a laptop', async () => {
    const topology = await topologyOf('two-hop-1m', {
      users: 20_000,
      batchWindowMs: 100,
      throttleHz: 2,
      conflation: 'merge',
      delta: 'on',
      deflate: 'on',
      priorities: 'on',
    });
    const stages = topology.stages ?? [];
    expect(stages.length).toBeGreaterThanOrEqual(5);
    for (const [width, height] of [
      [640, 280],
      [640, 420],
      [1100, 420],
    ]) {
      const layout = layoutTopology(topology, width, height);
      expect(layout.mode).toBe('grid');
      // One chip per stage, not one per server.
      expect(layout.stages).toHaveLength(stages.length);
      expectReadable(layout.stages, layout.nodes, width, height);
      // The grid's CPU legend keeps its line under the cells.
      const gridBottom = Math.max(
        ...layout.nodes.filter((n) => n.kind === 'server').map((n) => n.y + n.h / 2),
      );
      for (const c of layout.stages.filter((c) => c.at !== 'broker'))
        expect(c.y - c.h / 2).toBeGreaterThanOrEqual(gridBottom + GRID_LEGEND_H);
      // A chip stacked under another of the band draws no leader through it.
      for (const c of layout.stages)
        if (c.leader)
          for (const above of layout.stages)
            if (above !== c && above.y < c.y && above.y > c.leader.y)
              expect(Math.abs(above.x - c.x) * 2 >= above.w + c.w, c.label).toBe(true);
    }
  });

  it('keeps a layout without stages as it was', async () => {
    const topology = await topologyOf('two-hop');
    const plain = layoutTopology(topology, 900, 360);
    expect(plain.stages).toEqual([]);
    const noStages: Topology = { ...topology, stages: [] };
    expect(layoutTopology(noStages, 900, 360).nodes).toEqual(plain.nodes);
  });

  it('draws a stage list it does not know about too', () => {
    const odd: TopologyStage[] = [{ name: 'new-stage', at: 'server', label: 'something new' }];
    const topology: Topology = {
      nodes: [
        { id: 'source', kind: 'source', label: 'Source', count: 1 },
        { id: 'redis', kind: 'broker', label: 'Redis', count: 1 },
        { id: 'server-0', kind: 'server', label: 'WS 1', count: 10 },
        { id: 'users-0', kind: 'users', label: 'users', count: 10, parent: 'server-0' },
      ],
      edges: [
        { id: 'a', from: 'source', to: 'redis', hop: 'hop2' },
        { id: 'b', from: 'redis', to: 'server-0', hop: 'hop2' },
        { id: 'c', from: 'server-0', to: 'users-0', hop: 'hop1' },
      ],
      stages: odd,
    };
    const layout = layoutTopology(topology, 800, 300);
    expect(layout.stages.map((c) => c.label)).toEqual(['something new']);
    expectReadable(layout.stages, layout.nodes, 800, 300);
  });
});

describe('claims card formats', () => {
  it('writes shares as percentages (signed as changes), multiples with ×, ms, bytes and counts', () => {
    expect(formatClaimValue(-0.517, 'share', 'change')).toBe('−52%');
    expect(formatClaimValue(0.004, 'share', 'change')).toBe('+0.4%');
    expect(formatClaimValue(0, 'share', 'change')).toBe('0%');
    expect(formatClaimValue(-0.9, 'share', 'value')).toBe('−90%');
    expect(formatClaimValue(4.5, 'x', 'ratio')).toBe('4.5×');
    expect(formatClaimValue(10, 'x', 'ratio')).toBe('10×');
    expect(formatClaimValue(52.34, 'ms', 'difference')).toBe('+52.3 ms');
    expect(formatClaimValue(99.55, 'ms', 'value')).toBe('99.5 ms');
    expect(formatClaimValue(79, 'B', 'value')).toBe('79 B');
    expect(formatClaimValue(-21, 'B', 'difference')).toBe('−21 B');
    // Large sizes read in decimal units, with the precision the figure needs.
    expect(formatClaimValue(12_000_000, 'B', 'value')).toBe('12 MB');
    expect(formatClaimValue(11_981_323, 'B', 'value')).toBe('11.98 MB');
    expect(formatClaimValue(120_500, 'B', 'value')).toBe('120.5 kB');
    expect(formatClaimValue(null, 'ms', 'value')).toBe('–');
    // A plain share is a rate, not a change: no plus sign.
    expect(formatClaimValue(0.0094, 'share', 'value')).toBe('0.9%');
    // A count is a number with thousands separators and no unit word.
    expect(formatClaimValue(100_000, 'count', 'value')).toBe('100,000');
    expect(formatClaimValue(193_594, 'count', 'value')).toBe('193,594');
    expect(formatClaimValue(12.345, 'count', 'value')).toBe('12.3');
    expect(formatClaimValue(1_500, 's', 'value')).toBe('1,500 s');
  });

  it('keeps the guide’s own precision: −99.5% is not −100%', () => {
    const guide = { min: -0.995, max: -0.995 };
    expect(formatBand(guide, 'share', 'change')).toBe('−99.5%');
    // The measured figure beside it gets the same precision.
    expect(formatClaimValue(-0.98064, 'share', 'change', guide)).toBe('−98.1%');
    expect(formatClaimValue(-0.95, 'share', 'change', guide)).toBe('−95%');
    // Without a band a share near 100% or 0% is still not rounded onto it.
    expect(formatClaimValue(-0.995, 'share', 'change')).toBe('−99.5%');
    expect(formatClaimValue(0.99996, 'share', 'value')).toBe('99.99%');
    expect(formatClaimValue(0.00004, 'share', 'value')).toBe('0.01%');
    expect(formatClaimValue(1, 'share', 'value')).toBe('100%');
    // Coarser guides keep the usual precision.
    expect(formatClaimValue(-0.517, 'share', 'change', { min: -0.5, max: -0.5 })).toBe('−52%');
    expect(formatBand({ min: 0.01, max: 0.01 }, 'share', 'value')).toBe('1%');
    expect(formatBand({ min: -0.0125, max: -0.0125 }, 'share', 'change')).toBe('−1.25%');
  });

  it('writes the guide’s band, the tolerance and the verdict', () => {
    expect(formatBand({ min: -0.9, max: -0.9 }, 'share', 'change')).toBe('−90%');
    expect(formatBand({ min: -0.05, max: 1 }, 'share', 'change')).toBe('−5% to +100%');
    expect(formatBand({ min: 0, max: 100 }, 'ms', 'value')).toBe('0–100 ms');
    expect(formatBand({ min: 10, max: 1_000_000 }, 'x', 'ratio')).toBe('at least 10×');
    expect(formatBand({ min: -1e9, max: 5 }, 'B', 'value')).toBe('at most 5 B');
    // Units that change with size (ms → s) keep both; the guide's figures have no padding zeros.
    expect(formatBand({ min: 500, max: 3000 }, 'ms', 'value')).toBe('500 ms to 3 s');
    expect(formatBand({ min: 50, max: 50 }, 'ms', 'difference')).toBe('+50 ms');
    expect(formatBand({ min: 1000, max: 1000 }, 'ms', 'value')).toBe('1 s');
    expect(formatBand({ min: 2.5, max: 2.5 }, 'ms', 'value')).toBe('2.5 ms');
    // A signed upper bound is not run into a dash ("0–+10 ms").
    expect(formatBand({ min: 0, max: 10 }, 'ms', 'difference')).toBe('0 to +10 ms');
    expect(formatBand({ min: 100_000, max: 100_000 }, 'count', 'value')).toBe('100,000');
    expect(formatTolerance(10_000, 'count')).toBe('±10,000');
    expect(formatTolerance(0.01, 'share')).toBe('±1 pt');
    expect(formatTolerance(0.05, 'share')).toBe('±5 pts');
    expect(formatTolerance(1.5, 'x')).toBe('±1.5×');
    expect(formatTolerance(10, 'ms')).toBe('±10 ms');
    expect(formatTolerance(0.5, 'ms')).toBe('±0.5 ms');
    expect(formatTolerance(0, 'share')).toBe('');
    expect(verdictText('holds')).toBe('holds');
    expect(verdictText('does-not-hold')).toBe('does not hold');
    expect(verdictText('not-measured')).toBe('not measured');
    expect(codeSpans('the write, `cpuPerSendUs`) is paid')).toEqual([
      { code: false, text: 'the write, ' },
      { code: true, text: 'cpuPerSendUs' },
      { code: false, text: ') is paid' },
    ]);
  });

  it('reruns a claim’s run with the reader’s settings and the claim’s overrides, defaults left out', () => {
    const s = getScenario('batching');
    const params = resolveRun(s, { duration: 5 }, 1).params;
    expect(rerunCommand('batching', 7, s.parameters, params, { batchWindowMs: 0 })).toBe(
      'npm run hoplab -- run batching --seed 7 --set duration=5 --set batchWindowMs=0',
    );
    expect(rerunCommand('batching', 1, s.parameters, resolveRun(s, {}, 1).params, {})).toBe(
      'npm run hoplab -- run batching --seed 1',
    );
  });

  it('counts the runs of a check as evaluateClaims does', async () => {
    const s = getScenario('batching');
    const params = resolveRun(s, { duration: 1 }, 1).params;
    const expected = claimRunCount(s.claims, params);
    expect(expected).toBe(2);
    let reported = -1;
    await expect(
      evaluateClaims(s, {
        params,
        seed: 1,
        progress: (_, total) => (reported = total),
        cancelled: () => reported >= 0,
      }),
    ).rejects.toThrow('cancelled');
    expect(reported).toBe(expected);
    // With every parameter given (as the lab sends them), a claim's override equal to the current
    // value is the same run: compression's six claims need three runs, not five.
    const compression = getScenario('compression');
    expect(claimRunCount(compression.claims, {})).toBe(5);
    expect(claimRunCount(compression.claims, resolveRun(compression, {}, 1).params)).toBe(3);
  });
});

describe('shaping panel figures', () => {
  it('groups what each stage saved by unit, with stages that are on even at zero', () => {
    const groups = savedGroups({
      stages: ['batching', 'delta'],
      savedByStage: {
        throttle: 0,
        conflation: 40,
        batching: 900,
        deltaBytes: 0,
        deflateBytes: 5_000,
        selective: 0,
      },
      updatesSent: 960,
      framesSent: 100,
    });
    expect(groups.map((g) => g.unit)).toEqual(['deliveries', 'frames', 'bytes']);
    expect(groups[0].items.map((i) => i.key)).toEqual(['conflation']);
    expect(groups[0].shareOfTotal).toBeCloseTo(40 / 1000);
    expect(groups[1].shareOfTotal).toBeCloseTo(0.9);
    expect(groups[2].items.map((i) => [i.key, i.share])).toEqual([
      ['deltaBytes', 0],
      ['deflateBytes', 1],
    ]);
    expect(groups[2].shareOfTotal).toBeNull();
    expect(
      savedGroups({ stages: [], savedByStage: { throttle: 0 }, updatesSent: 1, framesSent: 1 }),
    ).toEqual([]);
  });

  it('says why a priority class has no figures', () => {
    const measured: PriorityClassStats = {
      p50Ms: 1,
      p99Ms: 2,
      p999Ms: 3,
      maxMs: 4,
      delivered: 10,
      dropped: 0,
      owed: 10,
      undelivered: 0,
    };
    const empty: PriorityClassStats = {
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      maxMs: null,
      delivered: 0,
      dropped: 0,
      owed: 0,
      undelivered: 0,
    };
    const rows = classRows(
      { P0: measured, P1: measured, P2: empty, P3: empty },
      { P0: 0.5, P1: 0.5, P2: 0, P3: 0.1 },
    );
    expect(rows.map((r) => r.state)).toEqual(['measured', 'measured', 'absent', 'none']);
    expect(classRows({ P0: empty, P1: empty, P2: empty, P3: empty }, null)[0].state).toBe('none');
  });

  it('lays out bytes per update per encoding with the guide’s figures from the claims', () => {
    const guide = guideSizes(getScenario('compression').claims);
    expect(guide.get('json-pretty')).toMatchObject({ min: 200, max: 200 });
    expect(guide.get('json-short')).toMatchObject({ min: 120 });
    expect(guide.get('msgpack')).toMatchObject({ min: 80 });
    expect(guide.get('protobuf')).toMatchObject({ min: 50 });
    const rows = encodingRows(
      {
        protobuf: 28,
        'protobuf-deflate': 19,
        'protobuf-deflate-no-takeover': 31,
        'guide-protobuf': 29,
        json: 63,
        'json-deflate': 21,
        'guide-json-pretty': 79,
        'json-pretty': 80,
        cbor: 40,
      },
      guide,
      'json',
    );
    expect(rows.map((r) => r.format)).toEqual(['json-pretty', 'json', 'protobuf', 'cbor']);
    expect(rows[2]).toMatchObject({
      label: 'Protocol Buffers',
      bytes: 28,
      deflateBytes: 19,
      deflateNoTakeoverBytes: 31,
      guideObjectBytes: 29,
      inUse: false,
    });
    expect(rows[1].inUse).toBe(true);
    expect(rows[0].guideClaim?.max).toBe(200);
    expect(encodingScaleMax(rows)).toBe(200);
  });

  it('formats CPU time and rates', () => {
    expect(formatCpuUs(440)).toBe('440 µs');
    expect(formatCpuUs(297_013)).toBe('297 ms');
    expect(formatCpuUs(1_495_913)).toBe('1.50 s');
    expect(formatPerSec(0.25)).toBe('0.25/s');
    expect(formatPerSec(9.9974)).toBe('10.0/s');
    expect(formatPerSec(98.44)).toBe('98/s');
  });
});

describe('scenario picker groups', () => {
  it('puts every scenario in exactly one group, the eight shaping ones together, no empty group', () => {
    const scenarios = listScenarios();
    const groups = scenarioGroups(scenarios);
    expect(groups.flatMap((g) => g.scenarios.map((s) => s.id)).sort()).toEqual(
      scenarios.map((s) => s.id).sort(),
    );
    expect(groups.every((g) => g.scenarios.length > 0)).toBe(true);
    expect(groups.find((g) => g.label === 'Shaping')?.scenarios.map((s) => s.id)).toEqual([
      'subscriptions',
      'selective-broadcast',
      'batching',
      'throttling',
      'conflation',
      'compression',
      'delta-updates',
      'priority-queues',
    ]);
    expect(groups.map((g) => g.label).slice(0, 5)).toEqual([
      'Protocols',
      'Distribution',
      'Failures',
      'Scale',
      'Shaping',
    ]);
  });
});
