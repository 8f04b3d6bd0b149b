// What every part of the cluster model shares: the scenario, the event queue, the clock, the messages, the trace and the run's counters.
import type { ClusterScenario } from '../../../scenario/schema.ts';
import type { MessageTable } from '../../engine.ts';
import type { TraceHasher } from '../../hash.ts';
import type { EventQueue } from '../../queue.ts';
import type { TraceRing } from '../../trace.ts';
import type { FlowCounts } from '../../types.ts';

export type ClusterTopology = ClusterScenario['topology'];

export type RecoveryPath =
  | 'resumeReplay'
  | 'resumeResync'
  | 'resumeLost'
  | 'gapFetch'
  | 'gapLost'
  | 'consumerReplay'
  | 'producerRetry'
  | 'healthEviction'
  | 'connectRetry'
  | 'gracefulDrain'
  | 'groupRebalance'
  | 'groupReplay'
  | 'partitionTimeout'
  | 'mailboxDelivery';

/**
 * The model hands each part this at construction. The queue, the message table, the trace and
 * the hasher are the event loop's own (one per run); the flow counts and the recovery-path marks
 * are the run's accounting, which every part adds to and the views read.
 */
export interface ClusterContext {
  readonly t: ClusterTopology;
  readonly durationUs: number;
  readonly queue: EventQueue;
  readonly msgs: MessageTable;
  readonly trace: TraceRing;
  readonly hasher: TraceHasher;
  /** The simulated clock: the time of the event being handled. */
  readonly clock: { readonly nowUs: number };
  readonly flow: FlowCounts;
  /** Coverage marks: how often each recovery path ran (tests check every one is reached). */
  readonly paths: Record<RecoveryPath, number>;
}

export function newPaths(): Record<RecoveryPath, number> {
  return {
    resumeReplay: 0,
    resumeResync: 0,
    resumeLost: 0,
    gapFetch: 0,
    gapLost: 0,
    consumerReplay: 0,
    producerRetry: 0,
    healthEviction: 0,
    connectRetry: 0,
    gracefulDrain: 0,
    groupRebalance: 0,
    groupReplay: 0,
    partitionTimeout: 0,
    mailboxDelivery: 0,
  };
}
