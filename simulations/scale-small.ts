// The guide's first scale tier (< 1,000 users): one server polling its data source.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'scale-small',
  title: 'Scale tier 1: under 1,000 users',
  summary: 'One WebSocket server polling its data source: no broker, no load balancer to speak of.',
  prose: `Under a thousand users the guide's advice is to keep it simple: **one server**, any protocol (WebSocket recommended), and no message broker — the server polls the data source and broadcasts. Latency is the poll interval's half plus the network; the one server is nowhere near its limits. Raise the users past a few thousand and watch why the next tier adds servers and a broker.`,
  model: 'cluster',
  durationS: 60,
  sampleIntervalMs: 500,
  topology: {
    ...clusterTopology,
    users: 800,
    servers: 1,
    channels: 20,
    broker: { ...clusterTopology.broker, kind: 'direct', pollIntervalMs: 500 },
  },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
