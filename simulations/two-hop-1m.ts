// The guide's "1M users = 100 servers × 10K connections", one update per channel per second.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import twoHop from './two-hop.ts';
import { shapingOff, shapingParameters } from './shared/shaping.ts';
import { twoHopParameters } from './shared/two-hop-parameters.ts';

export default {
  id: 'two-hop-1m',
  title: 'One million users on 100 servers',
  summary: '1,000,000 users on 100 servers × 10K connections, 1,000 channels: ~1M deliveries/s.',
  prose: `The guide's sizing rule made concrete: **1M users = 100 servers × 10K connections**. A source publishes one update per second on each of 1,000 channels; every user follows one channel, so each update fans out to about 1,000 users spread over the 100 servers — about a million WebSocket writes every simulated second.

Redis only sees 1,000 publishes a second and writes each to the ~100 servers that hold a subscriber: hop 2 is cheap. The work is in hop 1: each server writes ~10,000 frames a second. Halve the servers and every one of them hits its connection limit; raise the CPU per send and see when the cores, not the network, set p99.

Every update is the guide's stock-price object in JSON. The **Shaping** knobs work at this scale too: \`batchWindowMs=100\` with \`conflation=merge\` and \`delta=on\` is the benchmark's \`shaping-1m\` run — compare bytes per user, frames per user and staleness with and without them.`,
  model: 'two-hop',
  durationS: 10,
  sampleIntervalMs: 100,
  topology: {
    ...twoHop.topology,
    users: 1_000_000,
    servers: 100,
    channels: 1_000,
    subscriptionsPerUser: 1,
    server: { ...twoHop.topology.server, cores: 4, maxConnections: 10_000 },
    // Every stage off by default; the shaping knobs switch them on (`shaping-1m` in the bench:
    // batchWindowMs=100, conflation=merge, delta=on). Payloads are the guide's stock-price update.
    shaping: shapingOff,
  },
  workload: {
    ratePerChannelPerSec: 1,
    arrival: 'periodic',
    burstSizeMean: 1,
    payloadBytes: { kind: 'constant', value: 256 },
  },
  parameters: [...twoHopParameters.filter((p) => p.name !== 'payload'), ...shapingParameters],
} satisfies ScenarioFile;
