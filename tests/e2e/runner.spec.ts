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
