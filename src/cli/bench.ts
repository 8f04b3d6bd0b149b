// The benchmark: events/s and memory of the core on two workloads (`npm run bench -- [--json]`).
import { parseArgs } from 'node:util';
import { getScenario } from '../scenario/registry.ts';
import { resolveRun } from '../scenario/resolve.ts';
import { EventQueue } from '../sim/queue.ts';
import { Rng } from '../sim/rng.ts';
import { armsOf } from '../sim/compare.ts';
import { createSimulation } from '../sim/simulation.ts';
import { main as calibrateEncoders } from './calibrate-encoders.ts';

const HOLD_ENTITIES = 10_000;
const HOLD_EVENTS = 5_000_000;
const HOLD_MEAN_US = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Heap plus typed-array memory, in MB. */
function memoryMB(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1e6;
}

/** The classic hold model: each entity reschedules itself after an exponential delay. */
function hold() {
  gc();
  const queue = new EventQueue(HOLD_ENTITIES);
  const rng = new Rng(1, 'bench/hold');
  const delay = () => Math.round(-HOLD_MEAN_US * Math.log(1 - rng.float()));
  for (let i = 0; i < HOLD_ENTITIES; i++) queue.push(delay(), 0, i);
  const start = performance.now();
  let events = 0;
  while (events < HOLD_EVENTS && queue.pop()) {
    events++;
    queue.push(queue.time + delay(), queue.word0, queue.word1);
  }
  const wallMs = performance.now() - start;
  return {
    events,
    eventsPerSec: Math.round(events / (wallMs / 1000)),
    wallMs: Math.round(wallMs),
    heapMB: round1(memoryMB()),
  };
}

/** The shaping stages the `shaping-1m` workload switches on over two-hop-1m. */
const SHAPING_1M = { batchWindowMs: 100, conflation: 'merge', delta: 'on' };

async function twoHop1m(overrides: Record<string, string | number> = {}) {
  const run = resolveRun(getScenario('two-hop-1m'), overrides, 1);
  gc();
  const before = memoryMB();
  const sim = await createSimulation(run);
  gc();
  const built = memoryMB();
  const start = performance.now();
  const cpu = process.cpuUsage();
  sim.runUntil(sim.durationUs);
  const wallMs = performance.now() - start;
  const cpuMs = process.cpuUsage(cpu).user / 1000;
  const result = sim.result(wallMs);
  const heapMB = memoryMB();
  sim.dispose();
  return {
    events: result.events,
    /** User CPU of the run (less sensitive than wall time to other processes on the machine). */
    cpuMs: Math.round(cpuMs),
    realTimeFactor: round1(result.simulatedSeconds / (wallMs / 1000)),
    eventsPerSec: result.eventsPerSec,
    simulatedSeconds: result.simulatedSeconds,
    wallMs: Math.round(wallMs),
    heapMB: round1(heapMB),
    deliveries: result.delivered,
    deliveriesPerWallSec: Math.round(result.delivered / (wallMs / 1000)),
    /** Memory the simulator holds per simulated user, measured around building the world. */
    bytesPerUser: round1(((built - before) * 1e6) / Number(run.params.users)),
    /** The same, counted from the typed arrays (excludes the WebAssembly histograms). */
    simBytesPerUser: result.simBytesPerUser,
    traceHash: result.traceHash,
  };
}

/** All five protocols side by side: 10,000 clients, 60 s simulated, one seed. */
async function protocols() {
  const run = resolveRun(
    getScenario('protocols'),
    { clients: 10_000, channels: 2_500, duration: 60 },
    1,
  );
  const perProtocol: Record<string, { events: number; wallMs: number; eventsPerSec: number }> = {};
  let events = 0;
  let wallMs = 0;
  for (const arm of armsOf(run)) {
    const sim = await createSimulation(arm.run);
    const start = performance.now();
    sim.runUntil(sim.durationUs);
    const ms = performance.now() - start;
    const r = sim.result(ms);
    sim.dispose();
    perProtocol[arm.label] = {
      events: r.events,
      wallMs: Math.round(ms),
      eventsPerSec: r.eventsPerSec,
    };
    events += r.events;
    wallMs += ms;
  }
  return {
    clients: 10_000,
    simulatedSeconds: 60,
    events,
    wallMs: Math.round(wallMs),
    eventsPerSec: Math.round(events / (wallMs / 1000)),
    heapMB: round1(memoryMB()),
    perProtocol,
  };
}

/**
 * The fleet: Kafka with a consumer group, 20,000 users on 10 servers, 120 s simulated, a crash
 * that makes the group rebalance and a one-way partition (the heaviest cluster workload per user).
 */
async function cluster() {
  const faults = [
    { kind: 'server-crash', atS: 30, target: 1, forS: 0 },
    { kind: 'partition', atS: 60, forS: 20, from: 'server:2', to: 'users', oneWay: true },
  ];
  const run = resolveRun(
    getScenario('kafka'),
    { users: 20_000, servers: 10, channels: 200, consumers: 'group', duration: 120 },
    1,
    { faults },
  );
  const before = memoryMB();
  const sim = await createSimulation(run);
  const start = performance.now();
  sim.runUntil(sim.durationUs);
  const ms = performance.now() - start;
  const r = sim.result(ms);
  const heapMB = memoryMB() - before;
  sim.dispose();
  return {
    users: 20_000,
    simulatedSeconds: 120,
    events: r.events,
    deliveries: r.delivered,
    wallMs: Math.round(ms),
    eventsPerSec: r.eventsPerSec,
    heapMB: round1(heapMB),
  };
}

/**
 * A case study at its scale: ESPN's 50 games for 60 s simulated, 1.3M viewers of whom ~1M watch
 * the popular game, with priorities, the cache tiers and the score checks on every delivery.
 */
async function espn1m() {
  const run = resolveRun(getScenario('espn'), {}, 1);
  gc();
  const before = memoryMB();
  const sim = await createSimulation(run);
  const start = performance.now();
  sim.runUntil(sim.durationUs);
  const wallMs = performance.now() - start;
  const r = sim.result(wallMs);
  const heapMB = memoryMB();
  sim.dispose();
  return {
    users: Number(run.params.users),
    simulatedSeconds: r.simulatedSeconds,
    events: r.events,
    deliveries: r.delivered,
    wallMs: Math.round(wallMs),
    realTimeFactor: round1(r.simulatedSeconds / (wallMs / 1000)),
    deliveriesPerWallSec: Math.round(r.delivered / (wallMs / 1000)),
    heapMB: round1(heapMB),
    builtMB: round1(before),
    traceHash: r.traceHash,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

const { values } = parseArgs({
  options: { json: { type: 'boolean' }, only: { type: 'string' }, encoders: { type: 'boolean' } },
  strict: true,
});
if (values.encoders) {
  // Times the real encoders and deflate on the shape tables' payloads (the figures behind
  // src/sim/shaping/encoding/costs.ts; `npx tsx src/cli/calibrate-encoders.ts --write` rewrites it).
  process.exit(await calibrateEncoders(['--quick']));
}
const WORKLOADS = ['hold', 'twoHop1m', 'shaping1m', 'protocols', 'cluster', 'espn1m'] as const;
const only = values.only?.split(',') ?? [...WORKLOADS];
for (const w of only)
  if (!(WORKLOADS as readonly string[]).includes(w)) {
    console.error(
      `bench: --only: unknown workload ${JSON.stringify(w)}; known: ${WORKLOADS.join(', ')}`,
    );
    process.exit(2);
  }
const want = (w: (typeof WORKLOADS)[number]) => only.includes(w);
if (only.length < WORKLOADS.length) {
  // A partial run (while working on one part): print what ran and stop.
  const partial: Record<string, unknown> = {};
  if (want('hold')) partial.hold = hold();
  if (want('twoHop1m')) partial.twoHop1m = await twoHop1m();
  if (want('shaping1m')) partial.shaping1m = await twoHop1m(SHAPING_1M);
  if (want('protocols')) partial.protocols = await protocols();
  if (want('cluster')) partial.cluster = await cluster();
  if (want('espn1m')) partial.espn1m = await espn1m();
  console.log(JSON.stringify(partial, null, values.json ? undefined : 2));
  process.exit(0);
}
const report = {
  hold: hold(),
  twoHop1m: await twoHop1m(),
  shaping1m: await twoHop1m(SHAPING_1M),
  protocols: await protocols(),
  cluster: await cluster(),
  espn1m: await espn1m(),
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const h = report.hold;
  const t = report.twoHop1m;
  console.log(
    `hold       ${h.events.toLocaleString()} events  ${(h.eventsPerSec / 1e6).toFixed(2)} M events/s  heap ${h.heapMB} MB`,
  );
  console.log(
    `two-hop-1m ${t.simulatedSeconds} s simulated in ${(t.wallMs / 1000).toFixed(2)} s wall  ${t.events.toLocaleString()} events  ` +
      `${(t.deliveriesPerWallSec / 1e6).toFixed(2)} M deliveries/s  heap ${t.heapMB} MB  ${t.bytesPerUser} B/user (arrays ${t.simBytesPerUser})`,
  );
  const sh = report.shaping1m;
  console.log(
    `shaping-1m two-hop-1m + batch 100 ms, conflation merge, deltas: ${sh.simulatedSeconds} s simulated in ${(sh.wallMs / 1000).toFixed(2)} s wall ` +
      `(${sh.realTimeFactor}x real time)  ${sh.events.toLocaleString()} events  ${(sh.deliveriesPerWallSec / 1e6).toFixed(2)} M deliveries/s  heap ${sh.heapMB} MB`,
  );
  const p = report.protocols;
  const each = Object.entries(p.perProtocol)
    .map(([k, v]) => `${k} ${(v.wallMs / 1000).toFixed(2)} s`)
    .join(', ');
  console.log(
    `protocols  all five, ${p.clients.toLocaleString()} clients, ${p.simulatedSeconds} s simulated in ${(p.wallMs / 1000).toFixed(2)} s wall  ` +
      `${p.events.toLocaleString()} events  ${(p.eventsPerSec / 1e6).toFixed(2)} M events/s  (${each})`,
  );
  const c = report.cluster;
  console.log(
    `cluster    kafka group, ${c.users.toLocaleString()} users, crash + one-way cut, ${c.simulatedSeconds} s simulated in ${(c.wallMs / 1000).toFixed(2)} s wall  ` +
      `${c.events.toLocaleString()} events  ${(c.eventsPerSec / 1e6).toFixed(2)} M events/s  ${c.deliveries.toLocaleString()} deliveries  heap +${c.heapMB} MB`,
  );
  const e = report.espn1m;
  console.log(
    `espn-1m    50 games, ${e.users.toLocaleString()} viewers, ${e.simulatedSeconds} s simulated in ${(e.wallMs / 1000).toFixed(2)} s wall (${e.realTimeFactor}x real time)  ` +
      `${e.deliveries.toLocaleString()} deliveries  ${(e.deliveriesPerWallSec / 1e6).toFixed(2)} M deliveries/s  heap ${e.heapMB} MB`,
  );
}
