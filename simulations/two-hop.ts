// The guide's two-hop architecture at a size a learner can watch: source → Redis → 3 servers → 1,000 users.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { twoHopParameters } from './shared/two-hop-parameters.ts';

export default {
  id: 'two-hop',
  title: 'The two-hop architecture',
  summary:
    'An event source publishes through Redis pub/sub to 3 WebSocket servers and 1,000 users.',
  prose: `Every real-time system solves two problems. **Hop 2** moves an event from where it happens to every server that holds an interested user — here a source publishes to a Redis pub/sub channel and Redis writes it to each subscribed WebSocket server in well under a millisecond. **Hop 1** moves it from the server down each user's long-lived WebSocket connection, and that last stretch over the internet is where almost all of the latency lives.

Watch the per-hop breakdown: hop 2 stays below a millisecond while hop 1 follows the users' network. Then push the load: raise the update rate or the user count until the servers' cores saturate and queueing delay — not the network — starts to dominate p99.`,
  model: 'two-hop',
  durationS: 30,
  sampleIntervalMs: 250,
  topology: {
    users: 1_000,
    servers: 3,
    channels: 10,
    subscriptionsPerUser: 1,
    loadBalancer: 'round-robin',
    broker: { kind: 'redis-pubsub', serviceUs: 20, perSubscriberUs: 2 },
    server: {
      cores: 2,
      cpuPerInboundUs: 20,
      cpuPerSendUs: 10,
      maxConnections: 10_000,
      memoryPerConnectionKB: 50,
      egressMbps: 1_000,
      sendBufferKB: 256,
    },
    links: {
      sourceToBroker: {
        latencyMs: { kind: 'lognormal', median: 0.25, p99: 1 },
        jitterMs: 0,
        lossProbability: 0,
        rtoMs: 200,
        bandwidthMbps: 10_000,
      },
      brokerToServer: {
        latencyMs: { kind: 'lognormal', median: 0.25, p99: 1 },
        jitterMs: 0,
        lossProbability: 0,
        rtoMs: 200,
        bandwidthMbps: 10_000,
      },
      serverToUser: {
        latencyMs: { kind: 'lognormal', median: 30, p99: 90 },
        jitterMs: 5,
        lossProbability: 0,
        rtoMs: 200,
        bandwidthMbps: 20,
      },
    },
  },
  workload: {
    ratePerChannelPerSec: 5,
    arrival: 'poisson',
    burstSizeMean: 1,
    payloadBytes: { kind: 'constant', value: 256 },
  },
  parameters: twoHopParameters,
} satisfies ScenarioFile;
