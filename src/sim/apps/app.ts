// What a case-study application is given by the fabric it runs on, and what it gives back.
import type { Population } from '../population.ts';
import type { Rng } from '../rng.ts';
import type { Sampler } from '../dist.ts';
import type { LatencySummaryMs } from '../types.ts';

/**
 * One of the guide's figures set beside what the run measured. `holds` is decided by the app
 * from the claim's own condition (a bound, a range) and `why` says in a sentence what the
 * measurement shows — including, plainly, when the guide is wrong under its own assumptions.
 */
export interface GuideFigure {
  id: string;
  claim: string;
  measured: number | null;
  unit: string;
  holds: boolean;
  why: string;
}

/**
 * The broadcast fabric an app runs on (the two-hop model: source → Redis pub/sub → WebSocket
 * servers → users). The app takes the place of the source: it decides when an update is
 * published on which channel, and may schedule events of its own on the run's queue.
 */
export interface AppHost {
  readonly durationUs: number;
  readonly pop: Population;
  /** The app's own random stream (forked from the run's seed; the fabric's streams are apart). */
  readonly rng: Rng;
  /** The user link's one-way latency (ms), drawn from the app's own stream. */
  readonly userLatencyMs: Sampler;
  /** An app event at `atUs` (≥ now); `arg` < 2^26 and `word1` come back to `handle`. */
  schedule(atUs: number, arg: number, word1?: number): void;
  /**
   * Publishes one update on `channel` now: it goes through hop 2 and to every subscriber. With
   * priorities on, `klass` (0 = P0 … 3 = P3) is its class; otherwise it is drawn from the mix.
   */
  publish(nowUs: number, channel: number, klass?: number): number;
  /** Subscribers of a channel (its slots lie in the population's pair ranges). */
  subscribers(channel: number): number;
  /** When a published message was created (its publish time). */
  msgCreatedUs(message: number): number;
}

/** What the fabric measured, for the app's figures. */
export interface FabricSummary {
  nowUs: number;
  /** Publish → subscriber's screen, over every delivery of the run. */
  latencyMs: LatencySummaryMs;
  /** Hop-1 bytes per second per connected user, over the run so far. */
  bytesPerSecPerUser: number;
}

/** What an app's JSON adds to the run's result (`guideFigures` always, the rest per case). */
export interface AppResult {
  guideFigures: GuideFigure[];
  [key: string]: unknown;
}

export interface CaseApp {
  /** What stands where the fabric's source would (the topology's first box), and its role. */
  readonly source: { label: string; role: string };
  /** Called once, after the fabric is built and before the first event. */
  start(host: AppHost): void;
  /** One of the app's own events. */
  handle(nowUs: number, arg: number, word1: number): void;
  /**
   * Optional: told of each delivery when its arrival time is decided (it may lie past the end of
   * the run; the app decides what counts), on the unshaped and the shaped path alike.
   */
  delivered?(slot: number, user: number, message: number, arrivalUs: number): void;
  /** The app's figures and counts at the end of the run (or now, for a snapshot). */
  result(fabric: FabricSummary): AppResult;
  /** Frees what the app holds outside the heap (its histograms). */
  dispose(): void;
}
