// Simple polling at the guide's conditions: a 5 s interval, rare updates, ~99% empty responses.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'polling',
  title: 'Simple polling',
  summary: 'Every client asks every 5 s; updates are rare, so almost every answer is empty.',
  prose: `The client asks "anything new?" every 5 seconds, and the server answers at once. An update waits at the server until the next poll comes by — on average half an interval, at worst a whole one plus the round trip — so latency sits in the guide's **1–30 s** band, set by the interval, not the network.

Each client's feed here gets an update every ~8 minutes, so about **99% of requests come back empty** and every one still pays full HTTP headers. Watch the battery figure too: a poll every 5 s never lets a phone's radio fall idle. Turn keep-alive off to pay a TCP + TLS handshake per poll; shorten the interval and watch requests, bytes and battery climb while latency barely improves.`,
  model: 'protocols',
  durationS: 600,
  sampleIntervalMs: 5_000,
  topology: { ...protocolsTopology, channels: 1_000 },
  workload: {
    ...protocolsWorkload,
    protocol: 'polling',
    ratePerChannelPerSec: 0.002,
    clientOriginShare: 0,
  },
  parameters: protocolParameters,
} satisfies ScenarioFile;
