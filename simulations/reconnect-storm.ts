// The reconnect storm: 10,000 clients dropped at once against a fleet that accepts 1,000 connections/s.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'reconnect-storm',
  title: 'The reconnect storm',
  summary: 'A load-balancer reload drops 10,000 clients at once; backoff with and without jitter.',
  prose: `At 30 s a load-balancer reload closes all 10,000 connections. Every client reconnects after its backoff — 1 s, then 2, 4, 8 … up to 30 s. **Without jitter** they all come back in the same instant: over 90% of first attempts land in one 100 ms slot, the fleet (1,000 accepts a second) queues them, attempts time out, and the failures come back together again. **With full jitter** each client waits a random share of its backoff: the busiest slot holds about the uniform expectation and the fleet drains the queue.

Compare *allReconnectedAtS* and the failed attempts between \`jitter=none\` and \`jitter=full\`.`,
  model: 'cluster',
  durationS: 90,
  sampleIntervalMs: 250,
  topology: {
    ...clusterTopology,
    users: 10_000,
    servers: 10,
    channels: 100,
    connection: { ...clusterTopology.connection, jitter: 'none' },
    faults: [{ kind: 'mass-disconnect', atS: 30, target: 0, forS: 0, loseState: false, share: 1 }],
  },
  workload: { ...clusterWorkload, ratePerChannelPerSec: 0.2 },
  parameters: clusterParameters,
} satisfies ScenarioFile;
