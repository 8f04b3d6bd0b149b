// Direct polling: every server polls the data source — simple, slower, and the source load grows with servers.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'direct-polling',
  title: 'Direct polling of the source',
  summary: 'No broker: each server asks the data source every second for what is new.',
  prose: `The simplest hop 2: each WebSocket server polls the data source (an external API, a database) every second and pushes what it finds. It works with any source you cannot modify — but every update waits for the next poll (half an interval on average), and the source answers *servers ÷ interval* requests a second whether anything changed or not. Add servers and watch the source load; shorten the interval and watch latency fall and load climb.`,
  model: 'cluster',
  durationS: 60,
  sampleIntervalMs: 500,
  topology: { ...clusterTopology, broker: { ...clusterTopology.broker, kind: 'direct' } },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
