// The guide's full production architecture: several sources → Kafka → regional WebSocket farms.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'production-multi-region',
  title: 'Production: Kafka and regional farms',
  summary:
    'Three sources publish to Kafka; WebSocket farms in US-East, US-West and EU-West serve their regions.',
  prose: `The guide's complete production picture: database change capture, an external API and user actions all publish to **Kafka** (100 partitions, 7-day retention) in the first region; WebSocket farms in three regions consume it and serve the users nearest to them. A farm outside Kafka's region pays the inter-region hop on every message, and its users pay nothing extra — that is the point of regional farms.

At 40 s the whole EU-West farm goes down for 90 s. Within a minute its users' heartbeats time out; they back off and reconnect to a farm in another region (the geo router's failover), paying the inter-region hop on every message — and when EU-West is back at 130 s they stay where they are, because connections are sticky (watch the per-server connections). With history kept in Kafka they resume without losing anything. End to end, the guide's 50–150 ms.`,
  model: 'cluster',
  durationS: 180,
  sampleIntervalMs: 1_000,
  topology: {
    ...clusterTopology,
    users: 6_000,
    servers: 9,
    channels: 60,
    sources: 3,
    regions: 3,
    interRegionMs: 40,
    network: { ...clusterTopology.network, rttMs: 60 },
    broker: { ...clusterTopology.broker, kind: 'kafka', partitions: 100 },
    faults: [
      { kind: 'server-crash', atS: 40, target: 2, forS: 90, loseState: true, share: 1 },
      { kind: 'server-crash', atS: 40, target: 5, forS: 90, loseState: true, share: 1 },
      { kind: 'server-crash', atS: 40, target: 8, forS: 90, loseState: true, share: 1 },
    ],
  },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
