// The measured latency percentiles of a bridge run as dashed lines for the lab's latency chart.
import type { Measured } from '../../bridge/protocol.ts';
import { palette } from '../viz/palette.ts';

export const OVERLAY_LABEL = 'measured (real servers)';

export interface LatencyOverlay {
  label: string;
  lines: { key: string; label: string; colour: string; tS: number[]; values: number[] }[];
}

/**
 * p50 and p99 of each progress window (`windowLatencyMs`), on the simulated-seconds axis the chart
 * already uses; a window without deliveries is a gap. Null when there is nothing to draw.
 */
export function latencyOverlay(history: readonly Measured[]): LatencyOverlay | null {
  if (!history.length) return null;
  const tS = history.map((m) => m.tS);
  const pick = (p: 'p50' | 'p99') =>
    history.map((m) =>
      m.windowLatencyMs && m.windowLatencyMs.count > 0 ? m.windowLatencyMs[p] : NaN,
    );
  return {
    label: OVERLAY_LABEL,
    lines: [
      { key: 'measured-p99', label: 'p99', colour: palette.p99, tS, values: pick('p99') },
      { key: 'measured-p50', label: 'p50', colour: palette.p50, tS, values: pick('p50') },
    ],
  };
}
