// Node-side tests of the worker's run loop (no browser): pacing, the runaway guards, errors and CLI-equal hashes.
import { expect, test } from '@playwright/test';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import { EMIT_INTERVAL_MS } from '../../src/worker/limits.ts';
import type { RunRequest, RunUpdate } from '../../src/worker/protocol.ts';
import { SimRunner, type RunnerLimits } from '../../src/worker/runner.ts';

/** A fake worker environment: a clock that advances `msPerRead` on every read, and a task queue. */
function fakeHost(msPerRead = 1) {
  let nowMs = 0;
  const tasks: { at: number; fn: () => void }[] = [];
  const updates: RunUpdate[] = [];
  return {
    updates,
    host: {
      nowMs: () => (nowMs += msPerRead),
      schedule: (fn: () => void, delayMs: number) => tasks.push({ at: nowMs + delayMs, fn }),
      emit: (u: RunUpdate) => updates.push(u),
    },
    /** Runs queued tasks in time order until none are left or `maxTasks` ran. */
    drain(maxTasks = 1_000_000) {
      for (let i = 0; i < maxTasks && tasks.length; i++) {
        tasks.sort((a, b) => a.at - b.at);
        const task = tasks.shift()!;
        if (task.at > nowMs) nowMs = task.at;
        task.fn();
      }
    },
    get nowMs() {
      return nowMs;
    },
  };
}

const small = { scenarioId: 'two-hop', params: { users: 200, duration: 5 }, seed: 5 };
/** Big enough (~8,000 events) that small guards trip before the end. */
const longer = { scenarioId: 'two-hop', params: { users: 1000 }, seed: 5 };

async function runner(limits?: RunnerLimits, msPerRead = 1, request: RunRequest = small) {
  const env = fakeHost(msPerRead);
  const r = new SimRunner(env.host, limits);
  await r.load(request);
  return { env, r };
}

test('runs to the end at max speed with the same hash as the core run directly', async () => {
  const { env, r } = await runner();
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('done');
  expect(last.snapshot?.done).toBe(true);
  const sim = await createSimulation(resolveRun(getScenario('two-hop'), small.params, small.seed));
  sim.runUntil(sim.durationUs);
  expect(last.result?.traceHash).toBe(sim.snapshot().traceHash);
  expect(last.snapshot?.traceHash).toBe(sim.snapshot().traceHash);
  sim.dispose();
});

test('at 1x simulated time follows the wall clock and updates come about ten a second', async () => {
  const { env, r } = await runner(undefined, 0.05);
  r.setSpeed(1);
  r.start();
  const startMs = env.nowMs;
  env.drain(200);
  const elapsedMs = env.nowMs - startMs;
  const running = env.updates.filter((u) => u.status.phase === 'running' && u.snapshot);
  const simUs = running.at(-1)!.snapshot!.nowUs;
  expect(simUs / 1000).toBeGreaterThan(elapsedMs * 0.8);
  expect(simUs / 1000).toBeLessThan(elapsedMs * 1.05 + 50);
  expect(running.length).toBeLessThanOrEqual(elapsedMs / EMIT_INTERVAL_MS + 2);
  expect(running.length).toBeGreaterThan(elapsedMs / EMIT_INTERVAL_MS / 2);
  r.pause();
  expect(env.updates.at(-1)!.status.phase).toBe('paused');
});

test('step processes exactly one event', async () => {
  const { env, r } = await runner();
  r.step();
  r.step();
  expect(env.updates.at(-1)!.snapshot!.events).toBe(2);
  expect(env.updates.at(-1)!.status.phase).toBe('paused');
});

test('the event cap stops a runaway run with a message', async () => {
  const { env, r } = await runner(
    { maxEvents: 1_000, maxWallMs: 1e9, eventsPerChunk: 100 },
    1,
    longer,
  );
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('stopped');
  expect(last.status.message).toMatch(/1,000 events.*Reset/);
});

test('the wall-time budget stops a runaway run with a message', async () => {
  const { env, r } = await runner(
    { maxEvents: 1e12, maxWallMs: 30, eventsPerChunk: 100 },
    1,
    longer,
  );
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('stopped');
  expect(last.status.message).toMatch(/wall time/);
});

test('a bad request fails the load with the field named', async () => {
  const env = fakeHost();
  const r = new SimRunner(env.host);
  await expect(r.load({ ...small, params: { users: -1 } })).rejects.toThrow(/users/);
  expect(env.updates.at(-1)!.status.phase).toBe('error');
});

// ——— comparison runs: several arms on one clock ———

const compare: RunRequest = { scenarioId: 'protocols', params: { duration: 10 }, seed: 7 };

test('a comparison runs every arm to the end with the hash of each arm run on its own', async () => {
  const { env, r } = await runner(undefined, 1, compare);
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('done');
  expect(last.arms?.map((a) => a.label)).toEqual([
    'polling',
    'long-polling',
    'sse',
    'websocket',
    'webrtc',
  ]);
  for (const arm of last.arms!) {
    expect(arm.snapshot.done).toBe(true);
    const run = resolveRun(getScenario('protocols'), { duration: 10, protocol: arm.label }, 7);
    const sim = await createSimulation(run);
    sim.runUntil(sim.durationUs);
    expect(arm.result.traceHash, arm.label).toBe(sim.snapshot().traceHash);
    expect(arm.snapshot.traceHash).toBe(arm.result.traceHash);
    sim.dispose();
  }
});

test('comparison arms move in lockstep at a paced speed and at max', async () => {
  for (const speed of [1, 'max'] as const) {
    const { env, r } = await runner({ maxEvents: 1e12, maxWallMs: 1e9, eventsPerChunk: 50 }, 0.05, {
      ...compare,
      params: { duration: 600 },
    });
    r.setSpeed(speed);
    r.start();
    env.drain(speed === 'max' ? 20 : 200);
    r.pause();
    const paused = env.updates.at(-1)!;
    expect(paused.status.phase).toBe('paused');
    const times = paused.arms!.map((a) => a.snapshot.nowUs);
    expect(times[0]).toBeGreaterThan(0);
    // A pause may land mid-round (at most a round, 1 s simulated, apart); the clock is the laggard's.
    expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(1_000_000);
    expect(paused.snapshot!.nowUs).toBe(Math.min(...times));
    // While running, updates wait for the round to finish: every arm on the same clock.
    const running = env.updates.filter((u) => u.status.phase === 'running' && u.arms);
    expect(running.length).toBeGreaterThan(1);
    for (const u of running) {
      const at = u.arms!.map((a) => a.snapshot.nowUs);
      expect(Math.max(...at) - Math.min(...at), `at ${speed}`).toBe(0);
    }
    // Updates stay at the steady rate and carry one result per arm.
    for (const u of env.updates.filter((u) => u.arms))
      expect(u.arms!.every((a) => a.result.scenario === 'protocols')).toBe(true);
  }
});

test('a comparison keeps only the chosen arms; step moves the arm furthest behind', async () => {
  const { env, r } = await runner(undefined, 1, { ...compare, arms: ['websocket', 'sse'] });
  r.step();
  r.step();
  r.step();
  const last = env.updates.at(-1)!;
  expect(last.arms!.map((a) => a.label)).toEqual(['sse', 'websocket']);
  expect(last.arms!.reduce((n, a) => n + a.snapshot.events, 0)).toBe(3);
  expect(last.status.phase).toBe('paused');
});

test('a bad arm choice fails the load with the field named', async () => {
  const env = fakeHost();
  const r = new SimRunner(env.host);
  await expect(r.load({ ...compare, arms: ['sse', 'carrier-pigeon'] })).rejects.toThrow(/^arms:/);
  await expect(r.load({ ...compare, arms: ['sse'] })).rejects.toThrow(/at least 2/);
  await expect(r.load({ ...small, arms: ['sse', 'websocket'] })).rejects.toThrow(
    /only a comparison/,
  );
});

test('a cluster request carries its fault schedule to the run; other models refuse one', async () => {
  const faults = [{ kind: 'server-crash', atS: 2, target: 0, forS: 1 }];
  const request = { scenarioId: 'broker-failure', params: { duration: 5 }, seed: 3, faults };
  const { env, r } = await runner(undefined, 1, request);
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('done');
  const run = resolveRun(getScenario('broker-failure'), { duration: 5 }, 3, { faults });
  const sim = await createSimulation(run);
  sim.runUntil(sim.durationUs);
  expect(last.result?.traceHash).toBe(sim.snapshot().traceHash);
  sim.dispose();
  const env2 = fakeHost();
  await expect(new SimRunner(env2.host).load({ ...small, faults })).rejects.toThrow(/^faults:/);
});

test('a fault injected while paused fires at once, and its schedule replays the run exactly', async () => {
  const request = { scenarioId: 'redis-pubsub', params: { duration: 12 }, seed: 4 };
  const { env, r } = await runner(undefined, 1, request);
  r.setSpeed(100);
  r.start();
  // Run a few simulated seconds, then pause and crash WS 1 by "click".
  while ((env.updates.at(-1)?.snapshot?.nowUs ?? 0) < 6e6) env.drain(1);
  r.pause();
  const pausedAtUs = env.updates.at(-1)!.snapshot!.nowUs;
  const injected = r.inject({ kind: 'server-crash', target: 0, forS: 0, loseState: true });
  expect(injected.ok).toBe(true);
  if (!injected.ok) return;
  expect(injected.record.atS).toBeCloseTo((pausedAtUs + 1) / 1e6, 9);
  expect(injected.schedule.at(-1)).toMatchObject({ kind: 'server-crash', target: 0, forS: 0 });
  const afterInject = env.updates.at(-1)!;
  expect(afterInject.status.phase).toBe('paused');
  const fired = afterInject.snapshot!.cluster!.faults.at(-1)!;
  expect(fired.hit).toBeGreaterThan(0);
  expect(fired.recoveredAtS).toBeNull();
  // Heal it, run to the end.
  expect(r.inject({ kind: 'server-restart', target: 0 }).ok).toBe(true);
  const final = r.inject({ kind: 'mass-disconnect', share: 0.5 });
  expect(final.ok).toBe(true);
  r.setSpeed('max');
  r.start();
  env.drain();
  const last = env.updates.at(-1)!;
  expect(last.status.phase).toBe('done');
  // The schedule alone, as a link carries it, gives the same run.
  const schedule = final.ok ? final.schedule : [];
  const run = resolveRun(getScenario('redis-pubsub'), { duration: 12 }, 4, { faults: schedule });
  const sim = await createSimulation(run);
  sim.runUntil(sim.durationUs);
  expect(last.result?.traceHash).toBe(sim.snapshot().traceHash);
  sim.dispose();
});

test('bad or impossible injections are refused with the field named', async () => {
  const request = { scenarioId: 'redis-pubsub', params: { duration: 5 }, seed: 4 };
  const { r } = await runner(undefined, 1, request);
  expect(r.inject({ kind: 'meteor-strike' })).toMatchObject({ ok: false, field: 'fault.kind' });
  expect(r.inject({ kind: 'server-crash', target: 99 })).toMatchObject({
    ok: false,
    field: 'fault.target',
  });
  const { r: twoHop } = await runner();
  expect(twoHop.inject({ kind: 'broker-down' })).toMatchObject({ ok: false, field: 'fault' });
});

test('an injected scale-out sends the grown topology once it fires', async () => {
  const request = { scenarioId: 'redis-pubsub', params: { duration: 5 }, seed: 2 };
  const { env, r } = await runner(undefined, 1, request);
  const before = env.updates.length;
  const injected = r.inject({ kind: 'scale-out' });
  expect(injected.ok).toBe(true);
  const grown = env.updates.slice(before).find((u) => u.topology);
  expect(grown?.topology?.nodes.filter((n) => n.kind === 'server').length).toBe(4);
});
