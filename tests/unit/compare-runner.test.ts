// The worker's run loop with A/B override arms (no browser): lockstep arms equal to plain runs, the noise seeds afterwards, and cancelling them.
import { describe, expect, it } from 'vitest';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { noiseSeeds } from '../../src/sim/compare.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { RunRequest, RunUpdate } from '../../src/worker/protocol.ts';
import { SimRunner } from '../../src/worker/runner.ts';

/** A fake worker environment: a clock that moves 1 ms per read and a task queue run in order. */
function fakeHost() {
  let nowMs = 0;
  const tasks: (() => void)[] = [];
  const updates: RunUpdate[] = [];
  return {
    updates,
    host: {
      nowMs: () => (nowMs += 1),
      schedule: (fn: () => void) => tasks.push(fn),
      emit: (u: RunUpdate) => updates.push(u),
    },
    /** Runs tasks until none are left (or `until` holds), letting asynchronous builds settle. */
    async drain(until: () => boolean = () => false): Promise<void> {
      for (let idle = 0; idle < 20 && !until();) {
        const task = tasks.shift();
        if (task) {
          idle = 0;
          task();
        } else {
          idle++;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
    },
  };
}

const request: RunRequest = {
  scenarioId: 'two-hop',
  params: { duration: 2, users: 300 },
  seed: 11,
  abArms: [
    { name: 'few', overrides: { users: 200 } },
    { name: 'plain', overrides: {} },
  ],
  noiseSeeds: 2,
};
const rerun = (users: number, seed = 11) =>
  `rerun: npm run hoplab -- run two-hop --seed ${seed} --set duration=2 --set users=${users}`;

async function plainHash(users: number, seed = 11): Promise<string> {
  const sim = await createSimulation(
    resolveRun(getScenario('two-hop'), { duration: 2, users }, seed),
  );
  sim.runUntil(sim.durationUs);
  const hash = sim.snapshot().traceHash;
  sim.dispose();
  return hash;
}

describe('SimRunner with override arms', () => {
  it('runs the arms in lockstep to the same hashes as plain runs, then estimates the noise', async () => {
    const env = fakeHost();
    const runner = new SimRunner(env.host);
    const loaded = await runner.load(request);
    expect(loaded.arms?.map((a) => a.label)).toEqual(['few', 'plain']);
    runner.setSpeed('max');
    runner.start();
    await env.drain();
    const done = env.updates.filter((u) => u.status.phase === 'done' && u.arms).at(-1)!;
    expect(done.arms!.map((a) => a.snapshot.done)).toEqual([true, true]);
    expect(done.arms![0].snapshot.traceHash, rerun(200)).toBe(await plainHash(200));
    expect(done.arms![1].snapshot.traceHash, rerun(300)).toBe(await plainHash(300));

    const noise = env.updates.flatMap((u) => (u.noise ? [u.noise] : []));
    expect(noise.map((n) => n.done)).toEqual([0, 1, 2, 3, 4]);
    const last = noise.at(-1)!;
    expect(last.seeds).toEqual(noiseSeeds(11, 2));
    expect(last.total).toBe(4);
    expect(last.figures).toHaveLength(2);
    for (const perArm of last.figures!) expect(perArm).toHaveLength(2);
    // The noise figures are the arm's run on that seed.
    const sim = await createSimulation(
      resolveRun(getScenario('two-hop'), { duration: 2, users: 200 }, last.seeds[1]),
    );
    sim.runUntil(sim.durationUs);
    expect(last.figures![0][1].delivered, rerun(200, last.seeds[1])).toBe(sim.result(0).delivered);
    sim.dispose();
  });

  it('a new load cancels the noise runs', async () => {
    const env = fakeHost();
    const runner = new SimRunner(env.host);
    await runner.load({ ...request, params: { duration: 1, users: 200 } });
    runner.setSpeed('max');
    runner.start();
    // Run until the first noise run has finished, then load something else.
    await env.drain(() => env.updates.some((u) => (u.noise?.done ?? 0) >= 1));
    expect(env.updates.at(-1)?.noise?.done).toBe(1);
    await runner.load({ scenarioId: 'two-hop', params: { duration: 1, users: 100 }, seed: 1 });
    const mark = env.updates.length;
    await env.drain();
    expect(env.updates.slice(mark).some((u) => u.noise)).toBe(false);
  });

  it('refuses bad arms and bad noise counts with the field named', async () => {
    const runner = new SimRunner(fakeHost().host);
    await expect(
      runner.load({
        ...request,
        abArms: [
          { name: 'a', overrides: {} },
          { name: 'b', overrides: { users: -5 } },
        ],
      }),
    ).rejects.toThrow(/^arm b: users: must be in/);
    await expect(runner.load({ ...request, noiseSeeds: 99 })).rejects.toThrow(/^noiseSeeds: /);
    await expect(runner.load({ ...request, arms: ['sse', 'websocket'] })).rejects.toThrow(
      /^arms: give either/,
    );
  });
});
