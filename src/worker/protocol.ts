// The data the worker and the page exchange: run requests, status and streamed updates.
import type { Fault } from '../scenario/schema.ts';
import type { OverrideArm } from '../scenario/url.ts';
import type { FigureSet } from '../sim/compare.ts';
import type { FaultRecord, RunResult, Snapshot, Topology, TraceRecord } from '../sim/types.ts';

/** What the page asks the worker to simulate; the worker resolves it with the same code as the CLI. */
export interface RunRequest {
  scenarioId: string;
  /** Parameter values by name (all or only non-defaults). */
  params: Record<string, number | string>;
  seed: number;
  /** For a run that expands into several arms (protocol=all): the arm labels to keep; all if absent. */
  arms?: string[];
  /**
   * An A/B comparison: each arm's parameter overrides on top of `params` (same scenario, seed and
   * faults); the arms run in lockstep. Replaces the protocol expansion (`arms` must be absent).
   */
  abArms?: OverrideArm[];
  /** Comparisons: extra seeds each arm runs on after the arms finish, to measure the noise (0: none). */
  noiseSeeds?: number;
  /** Cluster scenarios: the fault schedule to run (a link's `faults`), replacing the scenario's own. */
  faults?: unknown;
}

export type RunPhase =
  | 'idle' // nothing loaded
  | 'loading' // building the simulation
  | 'ready' // loaded, at t = 0, not started
  | 'running'
  | 'paused'
  | 'done' // reached the scenario's duration
  | 'stopped' // a guard stopped a runaway run
  | 'error';

export interface RunStatus {
  phase: RunPhase;
  /** For 'stopped' and 'error': what happened and what to do, in words for the page. */
  message?: string;
  /** Simulated seconds per wall second actually achieved over the last update interval. */
  effectiveSpeed: number;
  /** Wall time spent simulating so far (pauses excluded). */
  wallMs: number;
}

/** One arm of a comparison as streamed: its label, where it is, and its figures so far. */
export interface ArmUpdate {
  label: string;
  snapshot: Snapshot;
  /** The run's result so far (`sim.result(wallMs)`), for the decision matrix. */
  result: RunResult;
}

/** One streamed update: about ten a second while running, plus one per control action. */
export interface RunUpdate {
  /** Increments with every load/reset, so the page can drop updates of a superseded run. */
  runId: number;
  status: RunStatus;
  snapshot: Snapshot | null;
  /** Sampled trace records since the previous update, oldest first. */
  trace: TraceRecord[];
  /** Set once, in the update that reports 'done'. */
  result?: RunResult;
  /**
   * Comparison runs only: every arm, on the same simulated clock. `snapshot` is then the arm that
   * is furthest behind (so the clock shows what all arms have reached) and `trace` is empty.
   */
  arms?: ArmUpdate[];
  /** Comparisons, once the arms are done: how far the noise estimate is (and its figures at the end). */
  noise?: NoiseProgress;
  /** Set when the run's topology changed (a server added by an injected scale-out joined). */
  topology?: Topology;
}

/** The noise estimate of a comparison: every arm rerun on each noise seed, as fast as possible. */
export interface NoiseProgress {
  seeds: number[];
  /** Noise runs finished, of `total` (arms × seeds). */
  done: number;
  total: number;
  /** Per arm, its figures on each noise seed in order; set once every noise run has finished. */
  figures?: FigureSet[][];
  /** Why the estimate stopped early (a guard tripped): the verdicts then use the values alone. */
  stopped?: string;
}

export interface LoadResult {
  runId: number;
  topology: Topology;
  snapshot: Snapshot;
  /** Comparison runs only: every arm at t = 0. */
  arms?: (ArmUpdate & { topology: Topology })[];
}

/** What the page gets back when it injects a fault: the updated schedule, or why it was refused. */
export type InjectResult =
  | {
      ok: true;
      runId: number;
      /** The injected fault as the run recorded it (hit 0 until it fires). */
      record: FaultRecord;
      /** The whole schedule now: the scenario's faults and every injected one, in order. */
      schedule: Fault[];
    }
  | {
      ok: false;
      /** The input at fault (`fault.kind`, `fault.target`, …) and what is allowed. */
      field: string;
      message: string;
    };
