// The public face of the core: create a run from a RunSpec and drive it. Shells call only this.
import type { RunSpec } from '../scenario/resolve.ts';
import { initHistograms } from './histogram.ts';
import { ClusterSimulation } from './models/cluster/model.ts';
import { FanoutSimulation } from './models/fanout/model.ts';
import { ProtocolSimulation } from './models/protocols.ts';
import { TwoHopSimulation } from './models/two-hop/model.ts';
import type {
  FaultRecord,
  RunResult,
  Snapshot,
  Topology,
  TraceRecord,
  UpdateRecord,
} from './types.ts';

/** A run in progress. Same RunSpec (scenario, parameters, seed) = the same run, event by event. */
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
  /** Updates published so far, from index `since` on (at most `limit`), in publication order. */
  updates(since: number, limit?: number): UpdateRecord[];
  /** Cluster scenarios: inject a fault now (validated; field-named ScenarioError otherwise). */
  injectFault?(fault: unknown): FaultRecord;
  /** Cluster scenarios: the fault schedule so far, injected faults included. */
  faultSchedule?(): unknown[];
  /**
   * Protocol and cluster runs: per client, the channel sequence number of the first update it was
   * owed (-1: none). Two-hop users are owed everything from the start.
   */
  firstOwedSeq?(): Int32Array;
  /** Frees the WebAssembly histograms. */
  dispose(): void;
}

export async function createSimulation(run: RunSpec): Promise<Simulation> {
  await initHistograms();
  const scenario = run.scenario;
  switch (scenario.model) {
    case 'two-hop':
      return new TwoHopSimulation(run, scenario);
    case 'protocols':
      return new ProtocolSimulation(run, scenario);
    case 'cluster':
      return new ClusterSimulation(run, scenario);
    case 'fanout':
      return new FanoutSimulation(run, scenario);
  }
}
