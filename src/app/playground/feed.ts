// The playground's feed: one channel of the simulator's published updates, replayed in wall-clock time.
import { getScenario } from '../../scenario/registry.ts';
import { resolveRun } from '../../scenario/resolve.ts';
import { createSimulation, type Simulation } from '../../sim/simulation.ts';
import type { UpdateRecord } from '../../sim/types.ts';

/** The speeds the learner can pick: simulated seconds per wall second. */
export const FEED_SPEEDS = [1, 2, 10] as const;
/** Update rates offered, updates per simulated second on the replayed channel. */
export const FEED_RATES = [0.1, 0.2, 0.5, 1, 2, 5] as const;
/** The simulated hour is replayed in cycles; one run covers this much. */
export const FEED_RUN_S = 3_600;
/** The replayed channel. */
export const FEED_CHANNEL = 0;

/**
 * Maps simulated time to wall time at an adjustable speed. It is anchored at the last start or
 * speed change, so changing speed never moves updates that are already due.
 */
export class FeedClock {
  private anchorWallMs = 0;
  private anchorSimUs = 0;
  private runningValue = false;

  constructor(private speedValue = 1) {}

  get speed(): number {
    return this.speedValue;
  }

  get running(): boolean {
    return this.runningValue;
  }

  /** Simulated time (µs) at a wall instant; frozen while paused. */
  simAt(wallMs: number): number {
    if (!this.runningValue) return this.anchorSimUs;
    return this.anchorSimUs + Math.max(0, wallMs - this.anchorWallMs) * 1000 * this.speedValue;
  }

  /** The wall instant (ms) at which simulated time `simUs` is (or was) reached while running. */
  wallAt(simUs: number): number {
    return this.anchorWallMs + (simUs - this.anchorSimUs) / 1000 / this.speedValue;
  }

  start(wallMs: number): void {
    if (this.runningValue) return;
    this.anchorWallMs = wallMs;
    this.runningValue = true;
  }

  pause(wallMs: number): void {
    if (!this.runningValue) return;
    this.anchorSimUs = this.simAt(wallMs);
    this.anchorWallMs = wallMs;
    this.runningValue = false;
  }

  /** Back to simulated time 0, paused. */
  reset(): void {
    this.anchorWallMs = 0;
    this.anchorSimUs = 0;
    this.runningValue = false;
  }

  setSpeed(speed: number, wallMs: number): void {
    if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
    this.anchorSimUs = this.simAt(wallMs);
    this.anchorWallMs = wallMs;
    this.speedValue = speed;
  }
}

/** One update of the replayed channel, with its time shifted into the current replay cycle. */
export interface FeedItem {
  /** The simulator's update id (unique within one run). */
  simId: number;
  /** Creation time on the feed's continuous timeline (cycles add FEED_RUN_S each). */
  createdUs: number;
  payloadBytes: number;
  /** The publishing client, or -1 for the server side (a price tick). */
  origin: number;
  /** Which replay of the simulated hour this is (0 for the first). */
  cycle: number;
}

/** Where the feed's updates come from; the simulator in the app, a fixed list in tests. */
export interface UpdateSource {
  readonly durationUs: number;
  readonly done: boolean;
  runUntil(untilUs: number): void;
  updates(since: number, limit?: number): UpdateRecord[];
  dispose?(): void;
}

/**
 * Pulls one channel's updates from a simulation as simulated time advances, looping over the run
 * so a long session never runs dry. `restart` gives a fresh run with the same seed, or null while
 * none is ready yet (runs are built asynchronously); the feed then waits at the cycle's end.
 */
export class FeedSchedule {
  private source: UpdateSource;
  private read = 0;
  private cycle = 0;
  private readonly pending: FeedItem[] = [];
  private head = 0;

  constructor(
    first: UpdateSource,
    private readonly restart: () => UpdateSource | null,
    private readonly channel = FEED_CHANNEL,
  ) {
    this.source = first;
  }

  /** Advances the simulation to `untilUs` on the feed's timeline and queues what it published. */
  advance(untilUs: number): void {
    // Bounded: at most a few cycles per call, even if the wall clock jumped (a sleeping laptop).
    for (let guard = 0; guard < 4; guard++) {
      const offset = this.cycle * this.source.durationUs;
      const local = Math.min(untilUs - offset, this.source.durationUs);
      if (local < 0) return;
      this.source.runUntil(local);
      for (const r of this.source.updates(this.read)) {
        this.read = r.id + 1;
        if (r.channel !== this.channel) continue;
        this.pending.push({
          simId: r.id,
          createdUs: r.createdUs + offset,
          payloadBytes: r.payloadBytes,
          origin: r.origin,
          cycle: this.cycle,
        });
      }
      if (!this.source.done || untilUs - offset < this.source.durationUs) return;
      const next = this.restart();
      if (!next) return;
      this.source.dispose?.();
      this.source = next;
      this.read = 0;
      this.cycle++;
    }
  }

  /** Removes and returns the queued updates created at or before `simUs`, oldest first. */
  takeDue(simUs: number): FeedItem[] {
    const out: FeedItem[] = [];
    while (this.head < this.pending.length && this.pending[this.head].createdUs <= simUs)
      out.push(this.pending[this.head++]);
    if (this.head > 1024) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  /** Frees the current run. */
  dispose(): void {
    this.source.dispose?.();
  }

  /** Creation time of the next queued update, if any. */
  nextUs(): number | undefined {
    return this.head < this.pending.length ? this.pending[this.head].createdUs : undefined;
  }
}

/** The knobs that decide the feed: same values → the same updates at the same simulated times. */
export interface FeedOptions {
  seed: number;
  /** Updates per simulated second on the replayed channel. */
  rate: number;
  payloadBytes: number;
  /** Share of the simulator's updates that a client (rather than the server) publishes. */
  clientShare: number;
}

export const DEFAULT_FEED: FeedOptions = {
  seed: 1,
  rate: 0.5,
  payloadBytes: 200,
  clientShare: 0.2,
};

/**
 * Builds the simulator run behind the feed: the `protocols` scenario with one channel (so every
 * update lands on the replayed channel) and a handful of clients to publish client-side updates.
 */
export async function createFeedSimulation(options: FeedOptions): Promise<Simulation> {
  const run = resolveRun(
    getScenario('protocols'),
    {
      protocol: 'websocket',
      clients: 4,
      channels: 1,
      rate: options.rate,
      payload: options.payloadBytes,
      clientShare: options.clientShare,
      duration: FEED_RUN_S,
    },
    options.seed,
  );
  return createSimulation(run);
}

/** A 32-bit integer hash (lowbias32), for deterministic prices and chat lines without an Rng. */
export function hash32(a: number, b = 0): number {
  let x = (Math.imul(a | 0, 0x9e3779b1) ^ (b | 0)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A price that walks by at most ±0.50 per tick, from the seed and the update's id alone. */
export function nextPrice(previous: number, seed: number, simId: number): number {
  const step = (hash32(seed, simId) / 0xffffffff - 0.5) * 1.0;
  return Math.max(1, Math.round((previous + step) * 100) / 100);
}

const CHAT_LINES = [
  'anyone else seeing this?',
  'nice move',
  'brb',
  'that was fast',
  '+1',
  'holding for now',
  'watching the spread',
  'good morning',
];

/** A short chat line for a client-published update. */
export function chatLine(seed: number, simId: number): string {
  return CHAT_LINES[hash32(seed ^ 0x5bd1e995, simId) % CHAT_LINES.length];
}
