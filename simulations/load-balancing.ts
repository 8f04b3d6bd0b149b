// Load balancing stateful connections: five strategies, NAT, a crash, a restart and a scale-out.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'load-balancing',
  title: 'Load balancing sticky connections',
  summary:
    'Round robin, least connections, IP hash, cookies and consistent hashing under a crash and a scale-out.',
  prose: `WebSocket connections are stateful, so the balancer decides once and the decision sticks. At 30 s server 1 crashes and its users reconnect to the others; at 50 s it is back — **empty**, because nobody moves off a healthy connection. At 70 s a sixth server joins and gets only new connections. Least connections steers newcomers to the emptiest server; round robin keeps spreading evenly and the imbalance stays.

IP hashing is simple until many users share one address: set *Users per IP* to 500 and watch one server take a whole office. Consistent hashing with virtual nodes moves only about 1/(n+1) of users when a server is added; modulo-style hashing moves almost everyone (*remappedShareOnScaleOut*).`,
  model: 'cluster',
  durationS: 100,
  sampleIntervalMs: 1_000,
  topology: {
    ...clusterTopology,
    users: 6_000,
    servers: 5,
    faults: [
      { kind: 'server-crash', atS: 30, target: 1, forS: 20, loseState: true, share: 1 },
      { kind: 'scale-out', atS: 70, target: 0, forS: 0, loseState: false, share: 1 },
    ],
  },
  workload: { ...clusterWorkload, ratePerChannelPerSec: 0.2 },
  parameters: clusterParameters,
} satisfies ScenarioFile;
