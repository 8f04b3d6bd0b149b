// Redis pub/sub between servers: fast, and at most once — what a disconnected server misses is gone.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'redis-pubsub',
  title: 'Redis pub/sub',
  summary: '3 servers share updates through Redis; a server crash shows what at-most-once loses.',
  prose: `A user connected to server 1 must see a message published on server 3: every server subscribes to Redis and Redis pushes each PUBLISH to every subscriber in well under a millisecond. It keeps **nothing**: a server that is down, restarting or disconnected (Redis also drops subscribers whose output buffer overflows) misses whatever was published meanwhile.

At 30 s server 2 crashes; its users notice after the heartbeat timeout and reconnect elsewhere with backoff. With no message history their missed updates are gone — watch *lost* and *reach*. Switch *Message history* to the broker (Redis Streams, as Centrifugo does) and they resume instead; switch the guarantee and see duplicates appear and disappear.`,
  model: 'cluster',
  durationS: 120,
  sampleIntervalMs: 1_000,
  topology: {
    ...clusterTopology,
    delivery: { ...clusterTopology.delivery, guarantee: 'at-most-once', history: 'none' },
    faults: [{ kind: 'server-crash', atS: 30, target: 1, forS: 10, loseState: true, share: 1 }],
  },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
