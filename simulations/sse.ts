// Server-Sent Events: one long-lived response streaming a ticker, with Last-Event-ID resume.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import {
  protocolParameters,
  protocolsTopology,
  protocolsWorkload,
} from './shared/protocols-base.ts';

export default {
  id: 'sse',
  title: 'Server-Sent Events',
  summary: 'A ticker streamed down one open HTTP response per client, resuming with Last-Event-ID.',
  prose: `SSE keeps one HTTP response open and writes each update into it as \`id: …\\ndata: …\`. Delivery is one trip down an already-open connection — the guide's **50–200 ms** on a 100 ms round trip. It is one-way: a client that wants to say something sends a separate HTTP request.

Connections here drop every 5 minutes on average without anyone noticing. The client's watchdog gives up after the heartbeat timeout, reconnects after the \`retry\` delay and sends \`Last-Event-ID\`; the server replays what was missed, so nothing is lost (set *SSE resume* off to see the gap). Open 8 tabs on HTTP/1.1 and the browser's 6-connections-per-origin limit starves two of them; switch HTTP/2 on and they all share one connection.`,
  model: 'protocols',
  durationS: 600,
  sampleIntervalMs: 2_000,
  topology: {
    ...protocolsTopology,
    channels: 1,
    drops: { meanTimeBetweenDropsS: 300, kind: 'silent' },
  },
  workload: {
    ...protocolsWorkload,
    protocol: 'sse',
    ratePerChannelPerSec: 1,
    clientOriginShare: 0,
  },
  parameters: protocolParameters,
} satisfies ScenarioFile;
