// The guide's third scale tier (100K–1M users): a multi-region WebSocket farm fed by Kafka.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'scale-large',
  title: 'Scale tier 3: 100K–1M users',
  summary: '200,000 users on 60 servers in 3 regions, fed by Kafka.',
  prose: `Past a hundred thousand users the guide's architecture becomes a **WebSocket farm of 50–100 servers in several regions** with **Kafka** in between: durable, replayable, partitioned so it scales with the load. Here 200,000 users sit on 60 servers in three regions; each farm consumes the whole topic and serves its region. Compare the end-to-end latency with the smaller tiers: Kafka's batching and the inter-region hop cost tens of milliseconds, bought back as durability.`,
  model: 'cluster',
  durationS: 20,
  sampleIntervalMs: 500,
  topology: {
    ...clusterTopology,
    users: 200_000,
    servers: 60,
    channels: 2_000,
    regions: 3,
    broker: { ...clusterTopology.broker, kind: 'kafka', partitions: 100 },
    server: { ...clusterTopology.server, acceptPerSec: 50_000 },
    delivery: { ...clusterTopology.delivery, guarantee: 'at-most-once' },
  },
  workload: { ...clusterWorkload, ratePerChannelPerSec: 0.1 },
  parameters: clusterParameters,
} satisfies ScenarioFile;
