// The readable trace: one line per sampled record, fixed columns, documented in ARCHITECTURE.md.
import type { TraceRecord } from './types.ts';

export const TRACE_HEADER = `${'start_ms'.padStart(12)} ${'end_ms'.padStart(12)} ${'kind'.padEnd(7)} ${'from'.padEnd(12)} ${'to'.padEnd(12)} ${'msg'.padStart(8)} ${'chan'.padStart(6)} ${'seq'.padStart(6)} ${'user'.padStart(8)}`;

/** `start_ms end_ms kind from to msg chan seq user` with times in milliseconds (3 decimals). */
export function formatTraceLine(r: TraceRecord): string {
  const ms = (us: number) => (us / 1000).toFixed(3).padStart(12);
  return `${ms(r.startUs)} ${ms(r.endUs)} ${r.kind.padEnd(7)} ${r.from.padEnd(12)} ${r.to.padEnd(12)} ${String(r.messageId).padStart(8)} ${String(r.channel).padStart(6)} ${String(r.seq).padStart(6)} ${String(r.user).padStart(8)}`;
}
