// WebRTC: small mesh groups talking peer to peer after signaling, with a TURN relay fallback.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'webrtc',
  title: 'WebRTC',
  summary:
    'Groups of 4 peers in a mesh: signaling through a server, then data straight between peers.',
  prose: `Peers first meet through a signaling server (a WebSocket): they learn their public addresses from STUN, swap offers and answers, run ICE checks, then DTLS and SCTP — several round trips before the first byte. After that the data goes **straight from peer to peer**, a shorter path than up to a server and back down: the guide's **10–50 ms**.

When ICE cannot punch through (here 15% of pairs), a TURN server relays the traffic: an extra hop, and bandwidth on your servers again. The relayed path is never shorter than the direct one. Every connection also sends a STUN consent check every 5 s, which keeps a phone's radio awake: the guide's "fair" battery.`,
  model: 'protocols',
  durationS: 120,
  sampleIntervalMs: 500,
  topology: { ...protocolsTopology, network: { ...protocolsTopology.network, rttMs: 60 } },
  workload: {
    ...protocolsWorkload,
    protocol: 'webrtc',
    ratePerChannelPerSec: 2,
    clientOriginShare: 1,
  },
  parameters: protocolParameters,
} satisfies ScenarioFile;
