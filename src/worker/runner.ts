// Drives one simulation in wall-clock slices at a chosen speed and streams paced updates; no comlink or DOM here.
import { getScenario } from '../scenario/registry.ts';
import { resolveRun } from '../scenario/resolve.ts';
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
import type { LoadResult, RunPhase, RunRequest, RunUpdate } from './protocol.ts';
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
  return { ...snapshot, series: thinSeries(snapshot.series) };
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
  private sim: Simulation | null = null;
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
  /** Only the most recently scheduled tick runs; older ones see a stale token and return. */
  private tickToken = 0;
  private readonly sampler = new TraceSampler(MAX_TRACE_PER_UPDATE);

  constructor(
    private readonly host: RunnerHost,
    private readonly limits: RunnerLimits = {
      maxEvents: MAX_EVENTS,
      maxWallMs: MAX_WALL_MS,
      eventsPerChunk: EVENTS_PER_CHUNK,
    },
  ) {}

  /** Builds a fresh simulation for the request; a later load supersedes a pending one. */
  async load(request: RunRequest): Promise<LoadResult> {
    const runId = ++this.runId;
    this.disposeSim();
    this.setPhase('loading');
    this.emit(null);
    let sim: Simulation;
    try {
      const spec = resolveRun(getScenario(request.scenarioId), request.params, request.seed);
      sim = await createSimulation(spec);
    } catch (error) {
      if (runId === this.runId) {
        this.setPhase('error', `Could not build the simulation: ${describe(error)}`);
        this.emit(null);
      }
      throw error;
    }
    const result: LoadResult = {
      runId,
      topology: sim.topology(),
      snapshot: forPage(sim.snapshot()),
    };
    if (runId !== this.runId) {
      sim.dispose();
      return result;
    }
    this.sim = sim;
    this.wallMs = 0;
    this.lastEmitSimUs = 0;
    this.effectiveSpeed = 0;
    sim.drainTrace();
    this.setPhase('ready');
    return result;
  }

  start(): void {
    if (!this.sim || !(this.phase === 'ready' || this.phase === 'paused')) return;
    this.setPhase('running');
    this.anchor();
    this.lastEmitWallMs = this.host.nowMs();
    this.emit(this.sim.snapshot());
    this.scheduleTick(0);
  }

  pause(): void {
    if (!this.sim || this.phase !== 'running') return;
    this.tickToken++;
    this.setPhase('paused');
    this.emitNow();
  }

  /** Processes exactly one event (pausing a running simulation first). */
  step(): void {
    if (
      !this.sim ||
      !(this.phase === 'ready' || this.phase === 'paused' || this.phase === 'running')
    )
      return;
    this.tickToken++;
    try {
      const t0 = this.host.nowMs();
      this.sim.step();
      this.wallMs += this.host.nowMs() - t0;
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.sim.done) this.finish();
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

  /** Stops and forgets the current run. */
  cancel(): void {
    this.runId++;
    this.tickToken++;
    this.disposeSim();
    this.setPhase('idle');
    this.emit(null);
  }

  private anchor(): void {
    this.anchorWallMs = this.host.nowMs();
    this.anchorSimUs = this.sim?.nowUs ?? 0;
  }

  private scheduleTick(delayMs: number): void {
    const token = ++this.tickToken;
    this.host.schedule(() => {
      if (token === this.tickToken) this.tick();
    }, delayMs);
  }

  private tick(): void {
    const sim = this.sim;
    if (!sim || this.phase !== 'running') return;
    const t0 = this.host.nowMs();
    // Whether the slice ended before reaching its target time (then the next one starts at once).
    let behind = true;
    try {
      if (this.speed === 'max') {
        do sim.runUntil(sim.durationUs, this.limits.eventsPerChunk);
        while (!sim.done && this.host.nowMs() - t0 < SLICE_MS);
      } else {
        const usPerMs = this.speed * 1000;
        let targetUs = this.anchorSimUs + (t0 - this.anchorWallMs) * usPerMs;
        // Too far behind (a slow scenario at a high speed): give up the debt instead of bursting.
        const maxLagUs = MAX_LAG_MS * usPerMs;
        if (targetUs - sim.nowUs > maxLagUs) {
          this.anchorSimUs = sim.nowUs + maxLagUs;
          this.anchorWallMs = t0;
          targetUs = this.anchorSimUs;
        }
        targetUs = Math.floor(targetUs);
        while (!sim.done && this.host.nowMs() - t0 < SLICE_MS) {
          if (sim.runUntil(targetUs, this.limits.eventsPerChunk) < this.limits.eventsPerChunk) {
            behind = false;
            break;
          }
        }
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    const t1 = this.host.nowMs();
    this.wallMs += t1 - t0;
    if (sim.done) {
      this.finish();
      return;
    }
    if (sim.events > this.limits.maxEvents) {
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
    if (t1 - this.lastEmitWallMs >= EMIT_INTERVAL_MS) this.emitNow();
    this.scheduleTick(behind ? 0 : 8);
  }

  private finish(): void {
    const sim = this.sim;
    if (!sim) return;
    this.tickToken++;
    this.setPhase('done');
    let result;
    try {
      result = sim.result(this.wallMs);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.emitNow(result);
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

  /** Snapshots the simulation and sends it with the trace drained since the last update. */
  private emitNow(result?: RunResult): void {
    const sim = this.sim;
    if (!sim) return this.emit(null);
    const now = this.host.nowMs();
    const elapsedMs = now - this.lastEmitWallMs;
    if (elapsedMs > 0) this.effectiveSpeed = (sim.nowUs - this.lastEmitSimUs) / 1000 / elapsedMs;
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
  ): void {
    this.host.emit({
      runId: this.runId,
      status: {
        phase: this.phase,
        message: this.message,
        effectiveSpeed: this.effectiveSpeed,
        wallMs: this.wallMs,
      },
      snapshot: snapshot ? forPage(snapshot) : null,
      trace,
      result,
    });
  }

  private disposeSim(): void {
    this.tickToken++;
    this.sim?.dispose();
    this.sim = null;
  }
}
