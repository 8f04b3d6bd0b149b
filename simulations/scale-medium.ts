// The guide's second scale tier (1K–100K users): a handful of servers behind a balancer, Redis pub/sub.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'scale-medium',
  title: 'Scale tier 2: 1K–100K users',
  summary: '20,000 users on 6 servers behind a load balancer, coordinated through Redis pub/sub.',
  prose: `From a thousand to a hundred thousand users the guide moves to **5–10 servers behind a load balancer** and **Redis pub/sub** to coordinate them, so a message published on one server reaches users connected to all the others. Redis adds well under a millisecond; the servers share the connections evenly; and the cost is one more moving part that, when it blinks, loses what it was carrying.`,
  model: 'cluster',
  durationS: 40,
  sampleIntervalMs: 500,
  topology: {
    ...clusterTopology,
    users: 20_000,
    servers: 6,
    channels: 200,
    server: { ...clusterTopology.server, acceptPerSec: 5_000 },
    delivery: { ...clusterTopology.delivery, guarantee: 'at-most-once' },
  },
  workload: { ...clusterWorkload, ratePerChannelPerSec: 0.5 },
  parameters: clusterParameters,
} satisfies ScenarioFile;
