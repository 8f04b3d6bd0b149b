// The shaping stages at their scenarios' defaults, and the errors bad settings get.
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import { getScenario } from '../../src/scenario/registry.ts';
import { loadScenario, resolveRun } from '../../src/scenario/resolve.ts';
import type { ScenarioFile } from '../../src/scenario/schema.ts';
import { checkDeltaState } from '../../src/sim/checkers/delta-state.ts';
import type { TwoHopSimulation } from '../../src/sim/models/two-hop/model.ts';
import { useGeneralPathOnly } from '../../src/sim/models/two-hop/shaped.ts';
import { getUpdateSchema } from '../../src/sim/shaping/encoding/schemas.ts';
import { wireBytesOf } from '../../src/sim/shaping/framing.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import batching from '../../simulations/batching.ts';
import { rerun, runToEnd } from '../support/run.ts';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).field;
  }
  throw new Error('expected a ScenarioError');
}

async function fieldOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).field;
  }
  throw new Error('expected a ScenarioError');
}

describe('shaping: bad input', () => {
  const scenario = getScenario('batching');
  it('refuses an unknown encoding, a negative window and a throttle of 0, naming the parameter', () => {
    expect(fieldOf(() => resolveRun(scenario, { encoding: 'xml' }))).toBe('encoding');
    expect(fieldOf(() => resolveRun(scenario, { batchWindowMs: -5 }))).toBe('batchWindowMs');
    expect(fieldOf(() => resolveRun(scenario, { throttleHz: 0 }))).toBe('throttleHz');
    expect(fieldOf(() => resolveRun(scenario, { throttleHz: 'sometimes' }))).toBe('throttleHz');
    expect(resolveRun(scenario, { throttleHz: 'off' }).params.throttleHz).toBe('off');
    expect(resolveRun(scenario, { throttleHz: '2.5' }).params.throttleHz).toBe(2.5);
  });

  it('refuses a conflation key that is not a field of the update schema, or is not its item key', async () => {
    const withKey = (key: string): ScenarioFile => {
      const t = batching.topology as { shaping: { conflation: object } };
      return {
        ...batching,
        topology: {
          ...batching.topology,
          shaping: { ...t.shaping, conflation: { ...t.shaping.conflation, mode: 'merge', key } },
        },
      } as ScenarioFile;
    };
    const bad = loadScenario(withKey('colour'));
    expect(await fieldOfAsync(() => createSimulation(resolveRun(bad, {})))).toBe(
      'shaping.conflation.key',
    );
    const notKey = loadScenario(withKey('price'));
    expect(await fieldOfAsync(() => createSimulation(resolveRun(notKey, {})))).toBe(
      'shaping.conflation.key',
    );
  });

  it('refuses deltas to an audience without subscriptions, and an unknown update schema', async () => {
    const sel = getScenario('selective-broadcast');
    expect(
      await fieldOfAsync(() => createSimulation(resolveRun(sel, { audience: 'all', delta: 'on' }))),
    ).toBe('delta');
    const file = {
      ...batching,
      topology: {
        ...batching.topology,
        shaping: {
          ...(batching.topology as { shaping: object }).shaping,
          updates: { schema: 'weather', classMix: { P0: 0, P1: 1, P2: 0, P3: 0 } },
        },
      },
    } as ScenarioFile;
    expect(await fieldOfAsync(() => createSimulation(resolveRun(loadScenario(file), {})))).toBe(
      'schema',
    );
  });
});

describe('shaping: framing', () => {
  it('counts WebSocket, TLS and TCP/IP framing per message', () => {
    // 60 bytes: 2-byte WebSocket header, one TLS record (+22), one segment (+52).
    expect(wireBytesOf(60)).toBe(60 + 2 + 22 + 52);
    // 2,000 bytes: 4-byte header, one record, two segments of at most 1,448 bytes.
    expect(wireBytesOf(2_000)).toBe(2_000 + 4 + 22 + 2 * 52);
  });
});

describe('shaping: the scenarios at their defaults', () => {
  it('batching sends about one frame per ten updates and fewer bytes, at the cost of waiting', async () => {
    const o = { duration: 5 };
    const on = (await runToEnd('batching', o, 3)).result;
    const off = (await runToEnd('batching', { ...o, batchWindowMs: 0 }, 3)).result;
    const why = rerun('batching', o, 3);
    const a = on.shaping;
    const b = off.shaping;
    if (!a || !b) throw new Error(`no shaping figures; ${why}`);
    expect(a.updatesPerSecPerUser / a.messagesPerSecPerUser, why).toBeGreaterThan(7);
    expect(b.updatesPerSecPerUser / b.messagesPerSecPerUser, why).toBe(1);
    expect(a.bytesPerSecPerUser, why).toBeLessThan(b.bytesPerSecPerUser * 0.8);
    expect(a.serverCpuUs, why).toBeLessThan(b.serverCpuUs * 0.5);
    expect(on.latencyMs.p50 - off.latencyMs.p50, why).toBeGreaterThan(30);
    expect(a.savedByStage.batching, why).toBeGreaterThan(0);
    expect(a.batch?.maxHoldMs, why).toBeLessThanOrEqual(100);
  });

  it('throttling with conflation cuts messages by ~99% and keeps values fresh, but the screen up to a second stale', async () => {
    const o = { duration: 6 };
    const r = (await runToEnd('throttling', o, 2)).result;
    const free = (await runToEnd('throttling', { ...o, throttleHz: 'off' }, 2)).result;
    const why = rerun('throttling', o, 2);
    const s = r.shaping;
    if (!s || !free.shaping) throw new Error(why);
    expect(s.messagesPerSecPerUser / free.shaping.messagesPerSecPerUser, why).toBeLessThan(0.02);
    expect(s.staleness?.maxMs, why).toBeGreaterThan(800);
    expect(s.staleness?.maxMs, why).toBeLessThan(1_400);
    expect(r.latencyMs.p50 - free.latencyMs.p50, why).toBeLessThan(100);
    expect(s.savedByStage.throttle, why).toBeGreaterThan(0);
    expect(s.throttleBacklog, why).toBe(0);
  });

  it('a throttle without conflation becomes a backlog that grows', async () => {
    const o = { duration: 4, conflation: 'off' };
    const s = (await runToEnd('throttling', o, 2)).result.shaping;
    expect(s?.throttleBacklog, rerun('throttling', o, 2)).toBeGreaterThan(1_000);
  });

  it('conflation gives slow clients the newest values their link can carry instead of a backlog', async () => {
    const o = { duration: 6 };
    const on = (await runToEnd('conflation', o, 1)).result.shaping;
    const off = (await runToEnd('conflation', { ...o, conflation: 'off' }, 1)).result.shaping;
    const why = rerun('conflation', o, 1);
    if (!on || !off) throw new Error(why);
    const mobileOn = on.perUserClass[1];
    const mobileOff = off.perUserClass[1];
    expect(mobileOn.name).toBe('mobile');
    // 0.3 Mbit/s carries about 220 frames of ~170 bytes a second: no more than that is sent.
    expect(mobileOn.bytesPerSecPerUser * 8, why).toBeLessThan(0.3e6 * 1.02);
    expect(mobileOn.messagesPerSecPerUser, why).toBeLessThan(300);
    // Fresh values instead of a backlog: staleness in the hundreds of ms, not seconds.
    expect(mobileOn.staleness?.p99Ms ?? Infinity, why).toBeLessThan(400);
    expect(mobileOff.staleness?.p99Ms ?? 0, why).toBeGreaterThan(2_000);
    expect(on.perUserClass[0].messagesPerSecPerUser, why).toBeGreaterThan(900);
    expect(on.savedByStage.conflation, why).toBeGreaterThan(0);
  });

  it('deltas resync clients whose frames were dropped, and every client’s state stays right', async () => {
    const o = { duration: 8 };
    const sim = (await createSimulation(
      resolveRun(getScenario('delta-updates'), o, 5),
    )) as TwoHopSimulation;
    sim.runUntil(sim.durationUs);
    const r = sim.result(0);
    const log = sim.deltaLog();
    sim.dispose();
    const why = rerun('delta-updates', o, 5);
    const s = r.shaping;
    if (!s) throw new Error(why);
    expect(s.deltas, why).toBeGreaterThan(s.snapshots);
    expect(s.resyncs, why).toBeGreaterThan(0);
    expect(r.dropped, why).toBeGreaterThan(0);
    const report = checkDeltaState(getUpdateSchema('score-update'), log);
    expect(report.applied, why).toBeGreaterThan(1_000);
    expect(report.violations, why).toEqual([]);
  });

  it('subscriptions change during the run and the servers’ broker subscriptions follow', async () => {
    const o = { duration: 10 };
    const s = (await runToEnd('subscriptions', o, 1)).result.shaping;
    const why = rerun('subscriptions', o, 1);
    expect(s?.subscriptions?.changes, why).toBeGreaterThan(50);
    expect(s?.subscriptions?.indexOps, why).toBe(2 * (s?.subscriptions?.changes ?? 0));
    expect(s?.subscriptions?.brokerSubscribeOps, why).toBeGreaterThan(0);
    expect(s?.subscriptions?.active, why).toBe(1_000 * 20);
    const pattern = (await runToEnd('subscriptions', { ...o, subscriptionMode: 'pattern' }, 1))
      .result.shaping;
    expect(pattern?.subscriptions?.mode).toBe('pattern');
    expect(pattern?.subscriptions?.active, why).toBe(1_000 * 20 * 10);
  });

  it('selective broadcasting sends 1% of what a broadcast to all sends', async () => {
    const o = { duration: 3 };
    const sel = (await runToEnd('selective-broadcast', o, 1)).result.shaping;
    const all = (await runToEnd('selective-broadcast', { ...o, audience: 'all' }, 1)).result
      .shaping;
    const region = (await runToEnd('selective-broadcast', { ...o, audience: 'region' }, 1)).result
      .shaping;
    const why = rerun('selective-broadcast', o, 1);
    if (!sel || !all || !region) throw new Error(why);
    expect(all.updatesSent / sel.updatesSent, why).toBeGreaterThan(80);
    expect(all.updatesSent / sel.updatesSent, why).toBeLessThan(120);
    expect(sel.audience?.shareReceiving ?? 1, why).toBeLessThan(0.02);
    expect(region.audience?.filterEvaluations, why).toBeGreaterThan(0);
    expect(region.audience?.shareReceiving ?? 0, why).toBeGreaterThan(0.07);
    expect(region.audience?.shareReceiving ?? 1, why).toBeLessThan(0.13);
  });
});

/** Numbers to 12 significant digits, for comparing sums that were added up in another order. */
function rounded(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? +v.toPrecision(12) : v)),
  );
}

describe('shaping: the written-out fast loops', () => {
  it('give the same run as the general path, with batches, conflation, deltas and drops', async () => {
    const cases: [string, Record<string, number | string>][] = [
      ['batching', { duration: 3, users: 400 }],
      ['batching', { duration: 3, users: 400, batchWindowMs: 0, delta: 'on' }],
      [
        'two-hop-1m',
        { duration: 2, users: 20_000, batchWindowMs: 100, conflation: 'merge', delta: 'on' },
      ],
      ['delta-updates', { duration: 4 }],
      ['conflation', { duration: 3, deflate: 'on' }],
      ['batching', { duration: 3, users: 300, batchMaxMessages: 3 }],
      ['batching', { duration: 3, users: 300, conflation: 'merge', hop1BandwidthMbps: 0.2 }],
      ['subscriptions', { duration: 4, batchWindowMs: 200, churnPerMin: 6, delta: 'on' }],
    ];
    for (const [id, o] of cases) {
      const fast = (await runToEnd(id, o, 9)).result;
      useGeneralPathOnly(true);
      try {
        const general = (await runToEnd(id, o, 9)).result;
        const why = rerun(id, o, 9);
        expect(fast.traceHash, why).toBe(general.traceHash);
        // Same run; sums of CPU time may differ in the last bits (added per frame or per batch).
        expect(rounded(fast.shaping), why).toEqual(rounded(general.shaping));
        expect(fast.latencyMs, why).toEqual(general.latencyMs);
      } finally {
        useGeneralPathOnly(false);
      }
    }
  });
});
