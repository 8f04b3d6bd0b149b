// Kafka between servers: partitions, linger, replication and committed offsets — replay, not loss.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'kafka',
  title: 'Kafka',
  summary:
    'A partitioned, replicated log: slower than Redis, but a crashed consumer replays from its offset.',
  prose: `Producers append to a topic of 12 partitions (the channel is the key, so one channel's updates stay in order in one partition), batching for a few milliseconds (*linger*) and waiting for the replicas (*acks=all*): tens of milliseconds more than Redis. Each WebSocket server consumes every partition and commits its offsets every 5 s.

At 30 s server 2 crashes. When it restarts it resumes from its **last committed offset**, so it re-sends up to 5 s of messages it had already sent: at-least-once delivery produces duplicates, which *exactly-once* suppresses by sequence number. Nothing is lost — the log keeps it for 7 days.`,
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
