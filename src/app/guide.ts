// The source guide's protocol decision matrix, quoted as reference data: these values are the guide's words, never measured.
import type { Protocol } from '../scenario/schema.ts';

export const PROTOCOL_ORDER: readonly Protocol[] = [
  'polling',
  'long-polling',
  'sse',
  'websocket',
  'webrtc',
];

export const PROTOCOL_NAME: Record<Protocol, string> = {
  polling: 'Polling',
  'long-polling': 'Long polling',
  sse: 'SSE',
  websocket: 'WebSocket',
  webrtc: 'WebRTC',
};

export function isProtocol(value: unknown): value is Protocol {
  return typeof value === 'string' && (PROTOCOL_ORDER as readonly string[]).includes(value);
}

/** A display name for an arm label: the protocol's name, or the label itself. */
export function armName(label: string): string {
  return isProtocol(label) ? PROTOCOL_NAME[label] : label;
}

export interface GuideRow {
  key: string;
  label: string;
  values: Record<Protocol, string>;
}

const row = (key: string, label: string, v: string[]): GuideRow => ({
  key,
  label,
  values: Object.fromEntries(PROTOCOL_ORDER.map((p, i) => [p, v[i]])) as Record<Protocol, string>,
});

/** The guide's matrix, row by row, in the guide's order. */
export const GUIDE_MATRIX: readonly GuideRow[] = [
  row('latency', 'Latency', ['1–30 s', '0.5–3 s', '50–200 ms', '10–100 ms', '10–50 ms']),
  row('bidirectional', 'Bidirectional', ['yes', 'yes', 'no', 'yes', 'yes']),
  row('complexity', 'Complexity', ['Low', 'Medium', 'Low', 'Medium', 'High']),
  row('browser', 'Browser support', ['All', 'All', 'Most', 'All', 'Most']),
  row('firewall', 'Firewall OK', ['yes', 'yes', 'yes', 'Mostly', 'Complex']),
  row('battery', 'Mobile battery', ['Poor', 'Fair', 'Good', 'Good', 'Fair']),
  row('serverLoad', 'Server load', ['High', 'Medium', 'Low', 'Low', 'None']),
  row('scale', 'Scale', ['Poor', 'Fair', 'Good', 'Excellent', 'P2P']),
];

/** The guide's "when to use" line per protocol. */
export const GUIDE_WHEN: Record<Protocol, string> = {
  polling: 'Updates more than 30 s apart; simplicity critical',
  'long-polling': 'Near real-time when WebSocket is not an option',
  sse: 'One-way server → client: stock tickers, feeds',
  websocket: 'Bidirectional: chat, trading, collaboration',
  webrtc: 'Ultra-low latency peer to peer: gaming, video calls',
};

/** The guide's latency range per protocol in ms, to set a measured figure against. */
export const GUIDE_LATENCY_MS: Record<Protocol, readonly [number, number]> = {
  polling: [1_000, 30_000],
  'long-polling': [500, 3_000],
  sse: [50, 200],
  websocket: [10, 100],
  webrtc: [10, 50],
};
