// The lab's colours in one place: hops, series and the CPU heat ramp (calm, colour-blind-safe pairs).
import { interpolateRgbBasis } from 'd3';

export const palette = {
  ink: '#1d2433',
  muted: '#5b6577',
  faint: '#98a1b2',
  line: '#e2e6ee',
  surface: '#ffffff',
  canvas: '#fbfcfe',
  ingest: '#8792a8',
  hop2: '#6d4fe0',
  hop1: '#0b8f80',
  drop: '#d9344f',
  p50: '#0b8f80',
  p99: '#6d4fe0',
  max: '#e08a1e',
  throughput: '#2f6fdb',
} as const;

/** One colour per protocol (Okabe–Ito, colour-blind safe), the same in every comparison chart and table. */
export const protocolColour: Record<string, string> = {
  polling: '#d55e00',
  'long-polling': '#e69f00',
  sse: '#009e73',
  websocket: '#0072b2',
  webrtc: '#cc79a7',
};

/** An arm's colour: its protocol's, or a neutral ink for anything else. */
export function armColour(label: string): string {
  return protocolColour[label] ?? palette.muted;
}

export const hopColour = {
  hop2: palette.hop2,
  hop1: palette.hop1,
} as const;

/** CPU utilisation 0..1 → a fill from cool green through amber to red. */
export const cpuColour = interpolateRgbBasis([
  '#dff3ee',
  '#9fdcc9',
  '#f3c969',
  '#ee7b54',
  '#d9344f',
]);

/** A fault's colour on the timeline and the charts' time axes: failures warm, growth cool. */
export function faultColour(kind: string): string {
  switch (kind) {
    case 'server-crash':
    case 'partition':
      return palette.drop;
    case 'broker-down':
      return palette.hop2;
    case 'lb-down':
    case 'mass-disconnect':
    case 'slow-link':
      return palette.max;
    case 'graceful-shutdown':
      return '#b7791f';
    case 'scale-out':
      return palette.hop1;
    default:
      return palette.muted;
  }
}
