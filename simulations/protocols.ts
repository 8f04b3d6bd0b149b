// The protocol ladder on one seeded workload: pick one protocol, or all five side by side.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolChoice,
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'protocols',
  title: 'Polling to WebRTC, side by side',
  summary:
    'One workload, five client–server protocols: latency, wasted requests, bytes, memory and battery.',
  prose: `Hop 1 is a choice among five protocols, and each one's cost comes from its mechanics. **Polling** asks on a timer and mostly hears "nothing new"; **long polling** parks a request at the server until there is news; **SSE** keeps one HTTP response open and streams events down it; a **WebSocket** upgrades a connection into a two-way channel; **WebRTC** negotiates through a signaling server and then talks peer to peer.

All five run here on the same seed: the same clients at the same distances, the same updates at the same instants. Compare the table, then change one thing — the update rate, the round trip, packet loss, the share of updates sent by clients — and see which protocol's numbers move and why.`,
  model: 'protocols',
  durationS: 120,
  sampleIntervalMs: 500,
  topology: protocolsTopology,
  workload: protocolsWorkload,
  parameters: [protocolChoice, ...protocolParameters],
} satisfies ScenarioFile;
