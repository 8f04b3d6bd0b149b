// WebSocket: a two-way chat over upgraded connections, with ping/pong heartbeats.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'websocket',
  title: 'WebSocket',
  summary: 'A chat: half the messages come from clients, all over one upgraded connection each.',
  prose: `One HTTP request upgrades into a full-duplex connection; after that a message costs a 2–14 byte frame header instead of hundreds of bytes of HTTP headers, in either direction. Half the messages here are sent by clients (chat), half by the server, and both land in the guide's **10–100 ms** on a 60 ms round trip — a client's message makes two trips (up to the server, down to the others).

The server pings every 30 s and declares a connection dead after 60 s without a pong. Connections here die silently every 10 minutes on average: see how long detection takes (never more than timeout + one interval), and what is lost, because plain WebSocket has no resume — that is what the resume protocols of the distribution scenarios add.`,
  model: 'protocols',
  durationS: 600,
  sampleIntervalMs: 2_000,
  topology: {
    ...protocolsTopology,
    channels: 100,
    network: { ...protocolsTopology.network, rttMs: 60 },
    drops: { meanTimeBetweenDropsS: 600, kind: 'silent' },
  },
  workload: {
    ...protocolsWorkload,
    protocol: 'websocket',
    ratePerChannelPerSec: 1,
    clientOriginShare: 0.5,
  },
  parameters: protocolParameters,
} satisfies ScenarioFile;
