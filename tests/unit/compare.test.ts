// A/B comparisons in the core: the tie rule, override arms with field-named errors, noise seeds, differences, and the arms' text form (CLI and URL).
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import {
  abFromQuery,
  abText,
  parseArmText,
  type OverrideArm,
  queryFromRun,
  RESERVED_QUERY_KEYS,
  runFromQuery,
} from '../../src/scenario/url.ts';
import {
  armsFromOverrides,
  armsOf,
  differences,
  explain,
  figuresOf,
  judge,
  noiseSeeds,
  type Difference,
  type FigureSet,
} from '../../src/sim/compare.ts';
import { createSimulation } from '../../src/sim/simulation.ts';

const fmt = (v: number, unit: string) => `${v}${unit ? ` ${unit}` : ''}`;

describe('judge: the tie rule', () => {
  it('calls equal values a tie, with or without a noise estimate', () => {
    expect(judge([5, 5], null, 'lower')).toMatchObject({ outcome: 'tie', why: 'equal' });
    const spreads = [
      [4, 6],
      [5, 9],
    ] as const;
    expect(judge([5, 5], spreads, 'lower')).toMatchObject({ outcome: 'tie', why: 'equal' });
  });

  it('calls overlapping spreads a tie even when the values differ', () => {
    const verdict = judge(
      [10, 12],
      [
        [9, 12],
        [11, 14],
      ],
      'lower',
    );
    expect(verdict).toEqual({ outcome: 'tie', winners: [], why: 'overlap' });
    // Touching ends overlap.
    expect(
      judge(
        [10, 12],
        [
          [9, 11],
          [11, 13],
        ],
        'higher',
      ).outcome,
    ).toBe('tie');
  });

  it('gives disjoint spreads to the better side: lower or higher', () => {
    const spreads = [
      [9, 10.5],
      [11, 14],
    ] as const;
    expect(judge([10, 12], spreads, 'lower')).toEqual({
      outcome: 'win',
      winners: [0],
      why: 'outside-noise',
    });
    expect(judge([10, 12], spreads, 'higher')).toEqual({
      outcome: 'win',
      winners: [1],
      why: 'outside-noise',
    });
  });

  it('never lets a metric without a direction win', () => {
    expect(judge([true, false], null, 'none')).toEqual({
      outcome: 'none',
      winners: [],
      why: 'no-direction',
    });
    expect(judge([1, 100], null, 'none').outcome).toBe('none');
  });

  it('without a noise estimate only exact equality ties', () => {
    expect(judge([10, 10.000001], null, 'lower')).toEqual({
      outcome: 'win',
      winners: [0],
      why: 'exact',
    });
    expect(judge([3, 1, 3], null, 'higher')).toMatchObject({ outcome: 'win', winners: [0, 2] });
  });

  it('groups arms linked to the best through overlapping spreads, clear of the rest', () => {
    // b overlaps a (the best), c overlaps b but not a: all three lead; d is clear of all of them.
    const values = [10, 12, 14, 30];
    const spreads = [
      [9, 12],
      [11, 13.5],
      [13, 15],
      [28, 31],
    ] as const;
    expect(judge(values, spreads, 'lower')).toMatchObject({ outcome: 'win', winners: [0, 1, 2] });
    expect(judge(values.slice(0, 3), spreads.slice(0, 3), 'lower').outcome).toBe('tie');
  });

  it('needs two measured arms', () => {
    expect(judge([null, 7], null, 'lower').outcome).toBe('missing');
    expect(judge([NaN, 7, null], null, 'lower').outcome).toBe('missing');
    expect(judge([null, 7, 5], null, 'lower')).toMatchObject({ outcome: 'win', winners: [2] });
  });
});

describe('explain', () => {
  const row = (values: number[], spreads: Difference['spreads']): Difference => ({
    key: 'latencyP50',
    label: 'Latency p50',
    unit: 'ms',
    better: 'lower',
    values,
    spreads,
    verdict: judge(values, spreads, 'lower'),
  });
  it('says who wins and why, with the spreads', () => {
    expect(
      explain(
        row(
          [10, 12],
          [
            [9, 10],
            [11, 13],
          ],
        ),
        ['a', 'b'],
        fmt,
      ),
    ).toBe('a lower, outside the noise (a 9–10 ms; b 11–13 ms)');
    expect(
      explain(
        row(
          [10, 12],
          [
            [9, 12],
            [11, 13],
          ],
        ),
        ['a', 'b'],
        fmt,
      ),
    ).toBe('within the noise: the spreads overlap (a 9–12 ms, b 11–13 ms)');
    expect(explain(row([10, 12], null), ['a', 'b'], fmt)).toMatch(/no noise estimate/);
    expect(explain(row([10, 10], null), ['a', 'b'], fmt)).toBe('equal (10 ms)');
  });
});

describe('armsFromOverrides', () => {
  const base = resolveRun(getScenario('two-hop'), { duration: 5, rate: 10 }, 9);

  it('applies each arm on top of the run: same scenario, seed and base overrides', () => {
    const arms = armsFromOverrides(base, [
      { name: 'small', overrides: { users: '500' } },
      { name: 'as-is', overrides: {} },
    ]);
    expect(arms.map((a) => a.label)).toEqual(['small', 'as-is']);
    expect(arms[0].overrides).toEqual({ users: 500 });
    expect(arms[0].run.params).toMatchObject({ users: 500, duration: 5, rate: 10 });
    expect(arms[1].run.params).toEqual(base.params);
    for (const a of arms) expect(a.run.seed).toBe(9);
  });

  it('keeps a cluster run’s fault schedule in every arm', () => {
    const faults = [{ kind: 'server-crash', atS: 2, target: 0, forS: 1 }];
    const cluster = resolveRun(getScenario('redis-pubsub'), { duration: 5 }, 1, { faults });
    const arms = armsFromOverrides(cluster, [
      { name: 'redis', overrides: {} },
      { name: 'kafka', overrides: { broker: 'kafka' } },
    ]);
    for (const a of arms) {
      const s = a.run.scenario;
      expect(s.model === 'cluster' && s.topology.faults.map((f) => f.atS)).toEqual([2]);
    }
  });

  it.each([
    [
      [
        { name: 'a', overrides: {} },
        { name: 'b', overrides: { users: '0' } },
      ],
      /^arm b: users: must be in \[1, 2000000\] users, got 0$/,
    ],
    [
      [
        { name: 'a', overrides: { nope: '1' } },
        { name: 'b', overrides: {} },
      ],
      /^arm a: nope: is not a parameter of two-hop/,
    ],
    [
      [
        { name: 'a', overrides: JSON.parse('{"__proto__":"1"}') },
        { name: 'b', overrides: {} },
      ],
      /^arm a: __proto__: is not a parameter/,
    ],
    [
      [
        { name: 'a', overrides: { loadBalancer: 'dice' } },
        { name: 'b', overrides: {} },
      ],
      /^arm a: loadBalancer: must be one of round-robin, random/,
    ],
    [[{ name: 'a', overrides: {} }], /^arms: compare 2 to 6 arms, got 1$/],
    [
      [
        { name: 'a', overrides: {} },
        { name: 'a', overrides: {} },
      ],
      /^arms: arm a is listed twice$/,
    ],
    [
      [
        { name: 'A!', overrides: {} },
        { name: 'b', overrides: {} },
      ],
      /^arms: arm name "A!" must be/,
    ],
    [
      'abcdefg'.split('').map((name) => ({ name, overrides: {} })),
      /^arms: compare 2 to 6 arms, got 7$/,
    ],
  ])('refuses bad arms with the arm and the parameter named (%#)', (arms, message) => {
    expect(() => armsFromOverrides(base, arms)).toThrow(ScenarioError);
    expect(() => armsFromOverrides(base, arms)).toThrow(message);
  });

  it('refuses a protocol arm left at protocol=all, and leaves the protocol expansion alone', () => {
    const all = resolveRun(getScenario('protocols'), {}, 1);
    expect(() =>
      armsFromOverrides(all, [
        { name: 'a', overrides: {} },
        { name: 'b', overrides: { protocol: 'sse' } },
      ]),
    ).toThrow(/^arm a: protocol: is all/);
    expect(armsOf(all).map((a) => a.label)).toEqual([
      'polling',
      'long-polling',
      'sse',
      'websocket',
      'webrtc',
    ]);
    expect(armsOf(all)[2].overrides).toEqual({ protocol: 'sse' });
  });
});

describe('noiseSeeds', () => {
  it('derives distinct seeds from the main seed, never the main seed itself', () => {
    expect(noiseSeeds(7, 3)).toEqual(noiseSeeds(7, 3));
    expect(noiseSeeds(7, 3)).not.toEqual(noiseSeeds(8, 3));
    expect(noiseSeeds(7, 5).slice(0, 3)).toEqual(noiseSeeds(7, 3));
    const seeds = noiseSeeds(1, 10);
    expect(new Set(seeds).size).toBe(10);
    expect(seeds).not.toContain(1);
    expect(noiseSeeds(1, 0)).toEqual([]);
  });
});

describe('differences', () => {
  async function figures(id: string, overrides: Record<string, string | number>, seed: number) {
    const sim = await createSimulation(resolveRun(getScenario(id), overrides, seed));
    sim.runUntil(sim.durationUs);
    const f = figuresOf(sim.result(0));
    sim.dispose();
    return f;
  }

  it('skips metrics no arm has, and judges every other row', async () => {
    const a = await figures('two-hop', { duration: 3, users: 200 }, 1);
    const b = await figures('two-hop', { duration: 3, users: 400 }, 1);
    const rows = differences([a, b], null);
    const keys = rows.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['latencyP50', 'delivered', 'hop1BytesPerSec']));
    expect(keys).not.toContain('lost');
    expect(keys).not.toContain('bidirectional');
    const delivered = rows.find((r) => r.key === 'delivered')!;
    expect(delivered.verdict).toMatchObject({ outcome: 'win', winners: [1], why: 'exact' });
  });

  it('uses the noise seeds’ figures for the spreads', () => {
    const main: FigureSet[] = [{ latencyP50: 10 }, { latencyP50: 12 }];
    const noise: FigureSet[][] = [[{ latencyP50: 13 }], [{ latencyP50: 11 }]];
    const [row] = differences(main, noise);
    expect(row.spreads).toEqual([
      [10, 13],
      [11, 12],
    ]);
    expect(row.verdict.outcome).toBe('tie');
  });
});

describe('the arms as text (--arm and ab=)', () => {
  it('parses name:key=value,… and an arm with no overrides', () => {
    expect(parseArmText('batched:users=100,loadBalancer=random', '--arm')).toEqual({
      name: 'batched',
      overrides: { users: '100', loadBalancer: 'random' },
    });
    expect(parseArmText('plain:', 'ab')).toEqual({ name: 'plain', overrides: {} });
  });

  it.each([
    ['plain', /^ab: expected name:key=value/],
    [':users=1', /^ab: arm name "" must be/],
    ['Big:users=1', /^ab: arm name "Big" must be/],
    ['a:users', /^arm a: expected key=value, got "users"/],
    ['a:=1', /^arm a: expected key=value/],
    ['a:users=1,users=2', /^arm a: users: is set twice/],
  ])('%j is refused with the field named', (text, message) => {
    expect(() => parseArmText(text, 'ab')).toThrow(message);
  });

  it('reads and writes the ab key, readable, and a reload reproduces every arm', () => {
    expect(RESERVED_QUERY_KEYS).toContain('ab');
    const run = resolveRun(getScenario('two-hop'), { users: 300 }, 4);
    const arms: OverrideArm[] = [
      { name: 'small', overrides: { users: 200, loadBalancer: 'random' } },
      { name: 'plain', overrides: {} },
    ];
    const query = queryFromRun(run, { view: 'compare', ab: abText(arms) });
    expect(query).toContain('ab=small:users=200,loadBalancer=random;plain:');
    const again = runFromQuery(query);
    expect(again.params).toEqual(run.params);
    expect(abFromQuery(query)).toEqual([
      { name: 'small', overrides: { users: '200', loadBalancer: 'random' } },
      { name: 'plain', overrides: {} },
    ]);
    const rebuilt = armsFromOverrides(again, abFromQuery(query)!, 'ab');
    const original = armsFromOverrides(run, arms, 'ab');
    expect(rebuilt.map((a) => a.run)).toEqual(original.map((a) => a.run));
  });

  it('names the field for a repeated key, an empty value and a bad value', () => {
    expect(abFromQuery('scenario=two-hop')).toBeNull();
    expect(() => abFromQuery('ab=a:&ab=b:')).toThrow(/^ab: appears twice in the URL$/);
    expect(() => abFromQuery('ab=')).toThrow(/^ab: lists no arms$/);
    expect(() => abFromQuery('ab=a:;b:;')).toThrow(/^ab: expected name:key=value/);
    const run = runFromQuery('scenario=two-hop');
    expect(() => armsFromOverrides(run, abFromQuery('ab=a:users=-5;b:')!, 'ab')).toThrow(
      /^arm a: users: must be in \[1, 2000000\] users, got -5$/,
    );
    expect(() => armsFromOverrides(run, abFromQuery('ab=a:;a:')!, 'ab')).toThrow(
      /^ab: arm a is listed twice$/,
    );
  });
});
