// Long polling under legacy conditions: no keep-alive, TLS 1.2, a mobile round trip.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'long-polling',
  title: 'Long polling',
  summary:
    'The server holds each request until there is news (or 30 s), then the client asks again.',
  prose: `The client's request waits at the server until an update arrives or the 30 s hold runs out, and the client re-asks as soon as an answer lands. No request comes back empty unless the hold expires — but every update costs a full request and response, and updates that arrive between an answer and the next request must be buffered by the server or they are lost (switch *Long-poll gaps* to drop and watch the loss count).

**Where the guide's 0.5–3 s comes from.** With a request waiting, long polling is as fast as one trip down the wire. The guide's range appears under the conditions long polling usually lives in: no keep-alive (proxies close the connection, so every cycle pays a TCP + TLS 1.2 handshake), a 300 ms mobile round trip and a busy feed — here each cycle takes about 4 round trips and updates queue up behind it, landing p50 near 0.8 s. Turn keep-alive on and p50 falls towards the one-way trip: the guide's figure describes the setting, not the mechanism.`,
  model: 'protocols',
  durationS: 120,
  sampleIntervalMs: 500,
  topology: {
    ...protocolsTopology,
    channels: 1,
    network: { ...protocolsTopology.network, rttMs: 300 },
    http: { ...protocolsTopology.http, keepAlive: 'off', tlsRoundTrips: 2 },
    radio: '3g',
  },
  workload: {
    ...protocolsWorkload,
    protocol: 'long-polling',
    ratePerChannelPerSec: 2,
    clientOriginShare: 0,
  },
  parameters: protocolParameters,
} satisfies ScenarioFile;
