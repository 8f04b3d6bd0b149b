// PLACEHOLDER — being written now by the core engineer. The API below is the contract.
import type { RunSpec } from '../scenario/resolve.ts';
import type { RunResult, Snapshot, Topology, TraceRecord } from './types.ts';

export interface Simulation {
  readonly durationUs: number;
  readonly nowUs: number;
  readonly events: number;
  /** True once simulated time has reached durationUs. */
  readonly done: boolean;
  /** Processes events with time <= min(untilUs, durationUs), at most maxEvents; returns how many. */
  runUntil(untilUs: number, maxEvents?: number): number;
  /** Processes the next event; false when the run is done. */
  step(): boolean;
  snapshot(): Snapshot;
  result(wallMs: number): RunResult;
  topology(): Topology;
  /** Trace records written since the last drain, oldest first (the ring keeps the newest 65,536). */
  drainTrace(): TraceRecord[];
  dispose(): void;
}

export declare function createSimulation(run: RunSpec): Promise<Simulation>;
