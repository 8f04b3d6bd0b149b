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

/**
 * The cluster fabric an app runs on (users connect through a load balancer to servers; they drop,
 * reconnect, go away and come back). The app takes the place of the source: it publishes on
 * channels, schedules its own events, and hears of applies, acks and absences as they happen.
 */
export interface ClusterAppHost {
  readonly durationUs: number;
  readonly users: number;
  readonly channels: number;
  /** The app's own random stream (forked from the run's seed; the fabric's streams are apart). */
  readonly rng: Rng;
  /**
   * The channel each user follows. The app may rewrite it in `start`, before anyone connects,
   * to lay out its own groups (chats); afterwards it is read only.
   */
  readonly userChannel: Int32Array;
  /** An app event at `atUs` (≥ now); `arg` < 2^26 and `word1` come back to `handle`. */
  schedule(atUs: number, arg: number, word1?: number): void;
  /** Publishes one message on `channel` now (from user `origin`, -1 for none); returns its id. */
  publish(nowUs: number, channel: number, origin: number): number;
  /** Whether user u holds a live connection now and has the app open. */
  connected(u: number): boolean;
  /** Whether user u has closed the app (gone away). */
  away(u: number): boolean;
  /** User u closes the app at `atUs` and opens it again at `backUs` (never, past the run's end). */
  goAway(u: number, atUs: number, backUs: number): void;
  /** One way between user u and its server, drawn from the app's own stream (µs). */
  uplinkUs(u: number): number;
  /** The highest channel sequence number u's client has moved past (applied or given up). */
  clientSeq(u: number): number;
  /** A message's sequence number in its channel (-1 while the broker has not ordered it). */
  msgSeq(message: number): number;
}

/** An application hosted on the cluster fabric (`topology.app` of a cluster scenario). */
export interface ClusterCaseApp {
  readonly source: { label: string; role: string };
  /** Called once, after the fabric has queued its first events and before the first runs. */
  start(host: ClusterAppHost): void;
  handle(nowUs: number, arg: number, word1: number): void;
  /** A client applied a message for the first time (in order, once). */
  applied?(nowUs: number, user: number, message: number): void;
  /** The client's ack of a message reached its server on a live connection. */
  acked?(nowUs: number, user: number, message: number): void;
  /** The user closed the app, or opened it again. */
  wentAway?(nowUs: number, user: number): void;
  cameBack?(nowUs: number, user: number): void;
  result(fabric: FabricSummary): AppResult;
  dispose(): void;
}
