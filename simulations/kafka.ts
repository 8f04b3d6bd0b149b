// Kafka between servers: partitions, linger, replication and committed offsets — replay, not loss.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'kafka',
  title: 'Kafka',
  summary:
    'A partitioned, replicated log: slower than Redis, but a crashed consumer replays from its offset.',
  prose: `Producers append to a topic of 12 partitions (the channel is the key, so one channel's updates stay in order in one partition), batching for a few milliseconds (*linger*) and waiting for the replicas (*acks=all*): tens of milliseconds more than Redis. Each WebSocket server consumes every partition and commits its offsets every 5 s.

At 30 s server 2 crashes. When it restarts it resumes from its **last committed offset**, so it re-sends up to 5 s of messages it had already sent: at-least-once delivery produces duplicates, which *exactly-once* suppresses by sequence number. Nothing is lost — the log keeps it for 7 days.

Switch **Kafka consumers** to *group*: now the servers split the partitions between them, and each record is read once and relayed to the other servers. The crash then stalls server 2's partitions until the group notices (the session timeout), and a **rebalance** stops every consumer for a few seconds before the partitions move — watch the latency spike and the replayed duplicates. Turn the **idempotent producer** off and cut the acknowledgements from the broker to the source (a one-way partition): the producer resends what was already written and the log holds second copies, which only deduplication by producer id and sequence removes.`,
  model: 'cluster',
  durationS: 120,
  sampleIntervalMs: 1_000,
  topology: {
    ...clusterTopology,
    broker: { ...clusterTopology.broker, kind: 'kafka' },
    faults: [{ kind: 'server-crash', atS: 30, target: 1, forS: 10, loseState: true, share: 1 }],
  },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
