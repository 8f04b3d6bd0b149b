// Drives a run (one simulation, or several arms in lockstep, then their noise seeds) in wall-clock slices at a chosen speed and streams paced updates; no comlink or DOM here.
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import type { Fault } from '../scenario/schema.ts';
import { resolveRun, type RunSpec } from '../scenario/resolve.ts';
import { createSimulation, type Simulation } from '../sim/simulation.ts';
import type { RunResult, Series, Snapshot } from '../sim/types.ts';
import {
  DEFAULT_SPEED,
  EMIT_INTERVAL_MS,
  EVENTS_PER_CHUNK,
  MAX_EVENTS,
  MAX_TRACE_PER_UPDATE,
  MAX_WALL_MS,
  SLICE_MS,
  SPEEDS,
  type Speed,
} from './limits.ts';
import { noiseCount, requestArms } from './arms.ts';
import { NoiseEstimate } from './noise.ts';
import type {
  ArmUpdate,
  InjectResult,
  LoadResult,
  NoiseProgress,
  RunPhase,
  RunRequest,
  RunUpdate,
} from './protocol.ts';
import { TraceSampler } from './trace-sampler.ts';

/** The runaway guards; tests pass small ones to see them trip. */
export interface RunnerLimits {
  maxEvents: number;
  maxWallMs: number;
  eventsPerChunk: number;
}

/** What the runner needs from its environment; the worker passes real timers, tests fake ones. */
export interface RunnerHost {
  nowMs(): number;
  /** Calls fn after delayMs; 0 means "as soon as the message loop has had a turn". */
  schedule(fn: () => void, delayMs: number): void;
  emit(update: RunUpdate): void;
}

/** Wall time the run may fall behind its speed before the clock is re-anchored (no catch-up bursts). */
const MAX_LAG_MS = 250;

/** Max speed with several arms: the first lockstep round's simulated span; it then adapts to the slice. */
const FIRST_ROUND_US = 100_000;
const MIN_ROUND_US = 1_000;
const MAX_ROUND_US = 1_000_000;

/** With several arms, an update waits for a round to finish (same clock in every arm), but no longer than this. */
const MAX_EMIT_DEFER_MS = 3 * EMIT_INTERVAL_MS;

/** Series longer than this are thinned before they are posted: charts need ~1 point per pixel. */
const MAX_SERIES_POINTS = 1_200;

function thinSeries(series: Series): Series {
  const n = series.tS.length;
  if (n <= MAX_SERIES_POINTS) return series;
  const stride = Math.ceil(n / MAX_SERIES_POINTS);
  const pick = (a: number[]): number[] =>
    a.filter((_, i) => i % stride === stride - 1 || i === n - 1);
  // For the max, keep the worst value of each thinned bucket rather than a sampled one.
  const bucketMax = (a: number[]): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i += stride) {
      let m = NaN;
      for (let j = i; j < Math.min(n, i + stride); j++) if (!(a[j] <= m)) m = a[j];
      out.push(m);
    }
    return out;
  };
  return {
    intervalMs: series.intervalMs * stride,
    tS: pick(series.tS),
    deliveriesPerSec: pick(series.deliveriesPerSec),
    producedPerSec: pick(series.producedPerSec),
    latencyMsP50: pick(series.latencyMsP50),
    latencyMsP99: pick(series.latencyMsP99),
    latencyMsMax: bucketMax(series.latencyMsMax),
    hop1BytesPerSec: pick(series.hop1BytesPerSec),
    hop2BytesPerSec: pick(series.hop2BytesPerSec),
    inFlight: pick(series.inFlight),
    dropped: pick(series.dropped),
    serverCpuMax: bucketMax(series.serverCpuMax),
    serverCpuMean: pick(series.serverCpuMean),
    serverQueueMax: bucketMax(series.serverQueueMax),
    serverConnectionsMin: pick(series.serverConnectionsMin),
    serverConnectionsMax: pick(series.serverConnectionsMax),
  };
}

function forPage(snapshot: Snapshot): Snapshot {
  const series = thinSeries(snapshot.series);
  const cluster = snapshot.cluster;
  // Connection rows follow the series' intervals, so they are thinned with the same stride.
  const stride = Math.round(series.intervalMs / snapshot.series.intervalMs);
  if (!cluster || stride <= 1) return { ...snapshot, series };
  const rows = cluster.connectionsSeries;
  const connectionsSeries = rows.filter(
    (_, i) => i % stride === stride - 1 || i === rows.length - 1,
  );
  return { ...snapshot, series, cluster: { ...cluster, connectionsSeries } };
}

function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  return minutes >= 1 ? `${+minutes.toFixed(1)} minutes` : `${+(ms / 1000).toFixed(1)} seconds`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export class SimRunner {
  /** One simulation, or one per arm of a comparison; all share one simulated clock. */
  private sims: Simulation[] = [];
  private labels: string[] = [];
  /** Each arm's run, for its noise seeds. */
  private specs: RunSpec[] = [];
  /** Noise seeds per arm once the arms finish (comparisons only), and the estimate under way. */
  private noiseSeeds = 0;
  private noise: NoiseEstimate | null = null;
  /** Wall time each arm spent simulating (for its result's events/s). */
  private armWallMs: number[] = [];
  private runId = 0;
  private phase: RunPhase = 'idle';
  private message: string | undefined;
  private speed: Speed = DEFAULT_SPEED;
  /** Wall and simulated time at which the current speed took effect. */
  private anchorWallMs = 0;
  private anchorSimUs = 0;
  private wallMs = 0;
  private lastEmitWallMs = 0;
  private lastEmitSimUs = 0;
  private effectiveSpeed = 0;
  /** Max speed with several arms: how far one lockstep round moves the shared clock. */
  private roundUs = FIRST_ROUND_US;
  /** With several arms: the target of a round some arms have not reached yet (null when level). */
  private pendingTargetUs: number | null = null;
  /** Only the most recently scheduled tick runs; older ones see a stale token and return. */
  private tickToken = 0;
  private readonly sampler = new TraceSampler(MAX_TRACE_PER_UPDATE);
  /** Nodes in the last topology sent; an injected scale-out adds one when it fires. */
  private topologyNodes = 0;
  /** Until this simulated time an injected scale-out may still change the topology. */
  private watchTopologyUntilUs = -1;

  constructor(
    private readonly host: RunnerHost,
    private readonly limits: RunnerLimits = {
      maxEvents: MAX_EVENTS,
      maxWallMs: MAX_WALL_MS,
      eventsPerChunk: EVENTS_PER_CHUNK,
    },
  ) {}

  /** Builds fresh simulations for the request; a later load supersedes a pending one. */
  async load(request: RunRequest): Promise<LoadResult> {
    const runId = ++this.runId;
    this.disposeSim();
    this.setPhase('loading');
    this.emit(null);
    const sims: Simulation[] = [];
    let labels: string[];
    let specs: RunSpec[];
    let noiseSeeds: number;
    try {
      const options = request.faults === undefined ? {} : { faults: request.faults };
      const spec = resolveRun(
        getScenario(request.scenarioId),
        request.params,
        request.seed,
        options,
      );
      const arms = requestArms(spec, request);
      noiseSeeds = noiseCount(request.noiseSeeds);
      labels = arms.map((a) => a.label);
      specs = arms.map((a) => a.run);
      for (const arm of arms) sims.push(await createSimulation(arm.run));
    } catch (error) {
      for (const sim of sims) sim.dispose();
      if (runId === this.runId) {
        this.setPhase('error', `Could not build the simulation: ${describe(error)}`);
        this.emit(null);
      }
      throw error;
    }
    const snapshots = sims.map((sim) => forPage(sim.snapshot()));
    const result: LoadResult = {
      runId,
      topology: sims[0].topology(),
      snapshot: snapshots[0],
    };
    if (sims.length > 1)
      result.arms = sims.map((sim, i) => ({
        label: labels[i],
        topology: sim.topology(),
        snapshot: snapshots[i],
        result: sim.result(0),
      }));
    if (runId !== this.runId) {
      for (const sim of sims) sim.dispose();
      return result;
    }
    this.sims = sims;
    this.labels = labels;
    this.specs = specs;
    this.noiseSeeds = sims.length > 1 ? noiseSeeds : 0;
    this.armWallMs = sims.map(() => 0);
    this.wallMs = 0;
    this.lastEmitSimUs = 0;
    this.effectiveSpeed = 0;
    this.roundUs = FIRST_ROUND_US;
    this.pendingTargetUs = null;
    this.topologyNodes = result.topology.nodes.length;
    this.watchTopologyUntilUs = -1;
    for (const sim of sims) sim.drainTrace();
    this.setPhase('ready');
    return result;
  }

  start(): void {
    if (!this.sims.length || !(this.phase === 'ready' || this.phase === 'paused')) return;
    this.setPhase('running');
    this.anchor();
    this.lastEmitWallMs = this.host.nowMs();
    if (this.sims.length === 1) this.emit(this.sims[0].snapshot());
    else this.emitNow();
    this.scheduleTick(0);
  }

  pause(): void {
    if (!this.sims.length || this.phase !== 'running') return;
    this.tickToken++;
    this.setPhase('paused');
    this.emitNow();
  }

  /**
   * Processes exactly one event (pausing a running simulation first). With several arms, the arm
   * furthest behind on the shared clock processes it, so the arms never drift apart.
   */
  step(): void {
    if (
      !this.sims.length ||
      !(this.phase === 'ready' || this.phase === 'paused' || this.phase === 'running')
    )
      return;
    this.tickToken++;
    const i = this.laggard();
    try {
      const t0 = this.host.nowMs();
      this.sims[i].step();
      const spentMs = this.host.nowMs() - t0;
      this.wallMs += spentMs;
      this.armWallMs[i] += spentMs;
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.allDone()) this.finish();
    else {
      this.setPhase('paused');
      this.emitNow();
    }
  }

  setSpeed(speed: Speed): void {
    if (!SPEEDS.includes(speed)) throw new Error(`Unknown speed ${String(speed)}`);
    this.speed = speed;
    this.anchor();
  }

  /**
   * Injects a fault into a cluster run at the current simulated time (a click in the lab). A paused
   * or fresh run is then advanced to the fault's time, so its effect (and hit count) shows at
   * once; that only moves the clock forward by a microsecond, which pausing never changes.
   */
  inject(fault: unknown): InjectResult {
    const sim = this.sims.length === 1 ? this.sims[0] : null;
    if (!sim?.injectFault || !sim.faultSchedule)
      return {
        ok: false,
        field: 'fault',
        message: 'faults can be injected into a single cluster run only',
      };
    if (!(this.phase === 'ready' || this.phase === 'paused' || this.phase === 'running'))
      return {
        ok: false,
        field: 'fault',
        message:
          this.phase === 'done'
            ? 'the run has finished; press Reset to run it again with this schedule'
            : 'the run is not ready yet',
      };
    let record;
    try {
      record = sim.injectFault(fault);
    } catch (error) {
      if (error instanceof ScenarioError)
        return {
          ok: false,
          field: error.field,
          message: error.message.startsWith(`${error.field}: `)
            ? error.message.slice(error.field.length + 2)
            : error.message,
        };
      throw error;
    }
    const atUs = Math.round(record.atS * 1e6);
    if (record.kind === 'scale-out') this.watchTopologyUntilUs = atUs;
    if (this.phase !== 'running') {
      try {
        const t0 = this.host.nowMs();
        sim.runUntil(atUs);
        this.wallMs += this.host.nowMs() - t0;
      } catch (error) {
        this.fail(error);
        return { ok: false, field: 'fault', message: describe(error) };
      }
      if (sim.done) this.finish();
      else {
        this.setPhase('paused');
        this.emitNow();
      }
    }
    return {
      ok: true,
      runId: this.runId,
      record: { ...record },
      schedule: sim.faultSchedule() as Fault[],
    };
  }

  /** Stops and forgets the current run. */
  cancel(): void {
    this.runId++;
    this.tickToken++;
    this.disposeSim();
    this.setPhase('idle');
    this.emit(null);
  }

  /** The shared simulated clock: the time every arm has reached. */
  private get nowUs(): number {
    let min = Infinity;
    for (const sim of this.sims) if (sim.nowUs < min) min = sim.nowUs;
    return this.sims.length ? min : 0;
  }

  private get events(): number {
    let sum = 0;
    for (const sim of this.sims) sum += sim.events;
    return sum;
  }

  private allDone(): boolean {
    return this.sims.every((sim) => sim.done);
  }

  /** The arm furthest behind (the first of equals), not counting finished arms while others run. */
  private laggard(): number {
    let best = 0;
    for (let i = 1; i < this.sims.length; i++) {
      const a = this.sims[i];
      const b = this.sims[best];
      if ((b.done && !a.done) || (a.done === b.done && a.nowUs < b.nowUs)) best = i;
    }
    return best;
  }

  private anchor(): void {
    this.anchorWallMs = this.host.nowMs();
    this.anchorSimUs = this.nowUs;
  }

  private scheduleTick(delayMs: number): void {
    const token = ++this.tickToken;
    this.host.schedule(() => {
      if (token === this.tickToken) this.tick();
    }, delayMs);
  }

  /**
   * Runs every arm up to targetUs until the slice's wall time is used up; true when all got there.
   * Arms take turns a chunk at a time, so a slice that ends early leaves them close together.
   */
  private advance(targetUs: number, t0: number): boolean {
    const chunk = this.limits.eventsPerChunk;
    if (this.sims.length === 1) {
      const sim = this.sims[0];
      while (!sim.done && this.host.nowMs() - t0 < SLICE_MS) {
        if (sim.runUntil(targetUs, chunk) < chunk) return true;
      }
      return false;
    }
    this.pendingTargetUs = targetUs;
    const reached = this.sims.map((sim) => sim.done);
    let pending = reached.filter((r) => !r).length;
    while (pending > 0 && this.host.nowMs() - t0 < SLICE_MS) {
      for (let i = 0; i < this.sims.length; i++) {
        if (reached[i]) continue;
        const s0 = this.host.nowMs();
        const processed = this.sims[i].runUntil(targetUs, chunk);
        this.armWallMs[i] += this.host.nowMs() - s0;
        if (processed < chunk || this.sims[i].done) {
          reached[i] = true;
          pending--;
        }
      }
    }
    if (pending === 0) this.pendingTargetUs = null;
    return pending === 0;
  }

  /** Max speed: one arm runs flat out; several move together in rounds sized to fit the slice. */
  private runMax(t0: number): void {
    if (this.sims.length === 1) {
      const sim = this.sims[0];
      do sim.runUntil(sim.durationUs, this.limits.eventsPerChunk);
      while (!sim.done && this.host.nowMs() - t0 < SLICE_MS);
      return;
    }
    const durationUs = Math.max(...this.sims.map((sim) => sim.durationUs));
    while (!this.allDone() && this.host.nowMs() - t0 < SLICE_MS) {
      const r0 = this.host.nowMs();
      // An unfinished round is finished first, so the arms meet again on one clock.
      const targetUs = this.pendingTargetUs ?? Math.min(durationUs, this.nowUs + this.roundUs);
      if (!this.advance(targetUs, t0)) {
        this.roundUs = Math.max(MIN_ROUND_US, this.roundUs / 2);
        return;
      }
      if (this.host.nowMs() - r0 < SLICE_MS / 4)
        this.roundUs = Math.min(MAX_ROUND_US, this.roundUs * 2);
    }
  }

  private tick(): void {
    if (!this.sims.length || this.phase !== 'running') return;
    const t0 = this.host.nowMs();
    // Whether the slice ended before reaching its target time (then the next one starts at once).
    let behind = true;
    try {
      if (this.speed === 'max') this.runMax(t0);
      else {
        const usPerMs = this.speed * 1000;
        const nowUs = this.nowUs;
        let targetUs = this.anchorSimUs + (t0 - this.anchorWallMs) * usPerMs;
        // Too far behind (a slow scenario at a high speed): give up the debt instead of bursting.
        const maxLagUs = MAX_LAG_MS * usPerMs;
        if (targetUs - nowUs > maxLagUs) {
          this.anchorSimUs = nowUs + maxLagUs;
          this.anchorWallMs = t0;
          targetUs = this.anchorSimUs;
        }
        targetUs = Math.floor(targetUs);
        // Several arms: finish the round they are in before starting the next.
        if (this.pendingTargetUs !== null && !this.advance(this.pendingTargetUs, t0)) behind = true;
        else behind = !this.advance(targetUs, t0);
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    const t1 = this.host.nowMs();
    this.wallMs += t1 - t0;
    if (this.sims.length === 1) this.armWallMs[0] = this.wallMs;
    if (this.allDone()) {
      this.finish();
      return;
    }
    if (this.events > this.limits.maxEvents) {
      this.stop(
        `Stopped: the run passed ${this.limits.maxEvents.toLocaleString('en-US')} events. Shorten the duration or lower users, channels or the update rate, then press Reset.`,
      );
      return;
    }
    if (this.wallMs > this.limits.maxWallMs) {
      this.stop(
        `Stopped: the run simulated for more than ${formatMinutes(this.limits.maxWallMs)} of wall time. Shorten the duration or shrink the scenario, then press Reset.`,
      );
      return;
    }
    const sinceEmitMs = t1 - this.lastEmitWallMs;
    if (
      sinceEmitMs >= EMIT_INTERVAL_MS &&
      (this.pendingTargetUs === null || sinceEmitMs >= MAX_EMIT_DEFER_MS)
    )
      this.emitNow();
    this.scheduleTick(behind ? 0 : 8);
  }

  private finish(): void {
    if (!this.sims.length) return;
    this.tickToken++;
    this.setPhase('done');
    if (this.sims.length > 1) {
      this.emitNow();
      this.startNoise();
      return;
    }
    let result;
    try {
      result = this.sims[0].result(this.wallMs);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.emitNow(result);
  }

  /** Comparisons: reruns every arm on the noise seeds, as fast as possible; a new load cancels it. */
  private startNoise(): void {
    if (this.noiseSeeds === 0) return;
    this.noise = new NoiseEstimate(this.specs, this.noiseSeeds);
    this.emitNoise(this.noise.progress());
    this.scheduleNoise();
  }

  private scheduleNoise(): void {
    const token = ++this.tickToken;
    this.host.schedule(() => {
      if (token === this.tickToken) void this.noiseTick(token);
    }, 0);
  }

  private async noiseTick(token: number): Promise<void> {
    const noise = this.noise;
    if (!noise) return;
    let finishedOne: boolean;
    try {
      finishedOne = await noise.slice(
        () => this.host.nowMs(),
        SLICE_MS,
        this.limits.eventsPerChunk,
      );
    } catch (error) {
      if (token === this.tickToken) this.stopNoise(`the noise runs failed: ${describe(error)}`);
      return;
    }
    if (token !== this.tickToken || noise !== this.noise) return;
    if (noise.finished) {
      this.emitNoise(noise.progress());
      this.noise = null;
      return;
    }
    if (noise.wallMs > this.limits.maxWallMs || noise.events > this.limits.maxEvents) {
      this.stopNoise(
        `the noise runs passed the run's guards (${formatMinutes(this.limits.maxWallMs)} or ${this.limits.maxEvents.toLocaleString('en-US')} events)`,
      );
      return;
    }
    if (finishedOne) this.emitNoise(noise.progress());
    this.scheduleNoise();
  }

  private stopNoise(why: string): void {
    const noise = this.noise;
    if (!noise) return;
    this.noise = null;
    const progress = noise.progress(`Stopped estimating the noise: ${why}.`);
    noise.dispose();
    this.emitNoise(progress);
  }

  private emitNoise(progress: NoiseProgress): void {
    this.emit(null, [], undefined, undefined, progress);
  }

  private stop(message: string): void {
    this.tickToken++;
    this.setPhase('stopped', message);
    this.emitNow();
  }

  private fail(error: unknown): void {
    this.tickToken++;
    this.setPhase(
      'error',
      `The simulation failed: ${describe(error)}. Press Reset to try again; if it fails again, copy the link and report it.`,
    );
    this.emit(null);
    console.error(error);
  }

  private setPhase(phase: RunPhase, message?: string): void {
    this.phase = phase;
    this.message = message;
  }

  /** Snapshots the run and sends it with the trace drained since the last update. */
  private emitNow(result?: RunResult): void {
    if (!this.sims.length) return this.emit(null);
    const now = this.host.nowMs();
    const nowUs = this.nowUs;
    const elapsedMs = now - this.lastEmitWallMs;
    if (elapsedMs > 0) this.effectiveSpeed = (nowUs - this.lastEmitSimUs) / 1000 / elapsedMs;
    if (this.sims.length > 1) {
      let arms: ArmUpdate[];
      try {
        arms = this.sims.map((sim, i) => ({
          label: this.labels[i],
          snapshot: forPage(sim.snapshot()),
          result: sim.result(this.armWallMs[i]),
        }));
      } catch (error) {
        this.fail(error);
        return;
      }
      this.lastEmitWallMs = now;
      this.lastEmitSimUs = nowUs;
      // The lead snapshot is the arm furthest behind: the time every arm has reached.
      let lead = 0;
      for (let i = 1; i < arms.length; i++)
        if (arms[i].snapshot.nowUs < arms[lead].snapshot.nowUs) lead = i;
      this.emit(arms[lead].snapshot, [], undefined, arms);
      return;
    }
    const sim = this.sims[0];
    let snapshot: Snapshot;
    try {
      snapshot = sim.snapshot();
    } catch (error) {
      this.fail(error);
      return;
    }
    const trace = this.sampler.sample(sim.drainTrace(), this.lastEmitSimUs);
    this.lastEmitWallMs = now;
    this.lastEmitSimUs = sim.nowUs;
    this.emit(snapshot, trace, result);
  }

  private emit(
    snapshot: Snapshot | null,
    trace: RunUpdate['trace'] = [],
    result?: RunUpdate['result'],
    arms?: ArmUpdate[],
    noise?: NoiseProgress,
  ): void {
    const update: RunUpdate = {
      runId: this.runId,
      status: {
        phase: this.phase,
        message: this.message,
        effectiveSpeed: this.effectiveSpeed,
        wallMs: this.wallMs,
      },
      // Arm snapshots are already thinned for the page.
      snapshot: snapshot ? (arms ? snapshot : forPage(snapshot)) : null,
      trace,
      result,
    };
    if (arms) update.arms = arms;
    if (noise) update.noise = noise;
    const topology = this.changedTopology();
    if (topology) update.topology = topology;
    this.host.emit(update);
  }

  /** The topology, when an injected scale-out has added a server since the last one sent. */
  private changedTopology(): RunUpdate['topology'] {
    if (this.watchTopologyUntilUs < 0 || this.sims.length !== 1) return undefined;
    const sim = this.sims[0];
    if (sim.nowUs >= this.watchTopologyUntilUs) this.watchTopologyUntilUs = -1;
    const topology = sim.topology();
    if (topology.nodes.length === this.topologyNodes) return undefined;
    this.topologyNodes = topology.nodes.length;
    return topology;
  }

  private disposeSim(): void {
    this.tickToken++;
    for (const sim of this.sims) sim.dispose();
    this.noise?.dispose();
    this.noise = null;
    this.sims = [];
    this.labels = [];
    this.specs = [];
  }
}
