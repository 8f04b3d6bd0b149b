// The guide's fourth scale tier (> 1M users): the fan-out at internet scale.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import twoHop from './two-hop.ts';
import { twoHopParameters } from './shared/two-hop-parameters.ts';

export default {
  id: 'scale-internet',
  title: 'Scale tier 4: over 1M users',
  summary: '1.5 million users on 150 servers: the fan-out of the internet-scale tier.',
  prose: `Above a million users the guide goes global: **100+ servers**, regional Kafka clusters and a CDN in front. What dominates at this size is the fan-out itself — 1.5 million WebSocket writes every second spread over 150 servers — which this scenario simulates exactly, per user (the distribution hop is drawn as a single pub/sub hop; the Kafka and regional mechanics are in the *production* scenario, at a size you can watch). Halve the servers to see the connection limit bite; double the update rate to see the cores do.`,
  model: 'two-hop',
  durationS: 5,
  sampleIntervalMs: 100,
  topology: {
    ...twoHop.topology,
    users: 1_500_000,
    servers: 150,
    channels: 1_500,
    server: { ...twoHop.topology.server, cores: 4, maxConnections: 12_000 },
  },
  workload: {
    ratePerChannelPerSec: 1,
    arrival: 'periodic',
    burstSizeMean: 1,
    payloadBytes: { kind: 'constant', value: 256 },
  },
  parameters: twoHopParameters,
} satisfies ScenarioFile;
