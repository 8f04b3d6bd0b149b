// Checker: under exactly-once, no update takes effect twice for a client — neither the same
// record delivered again nor a second copy of it (a retried write with the same producer id and
// producer sequence number).
import type { RunResult } from '../types.ts';
import type { DeliveryRecord } from './sequence.ts';

export function checkExactlyOnce(r: RunResult, deliveries: readonly DeliveryRecord[]): string[] {
  if (r.clusterStats?.guarantee !== 'exactly-once') return [];
  const out: string[] = [];
  if (r.duplicated !== 0) out.push(`${r.duplicated} duplicates applied under exactly-once`);
  const seen = new Set<string>();
  for (const d of deliveries) {
    if (d.applied === false) continue;
    const key = `${d.client}/${d.producer ?? d.channel}/${d.producerSeq ?? d.seq}`;
    if (seen.has(key)) {
      out.push(
        `client ${d.client} applied producer ${d.producer} seq ${d.producerSeq} twice (message ${d.message} at ${d.arrivalUs} µs)`,
      );
      if (out.length > 5) break;
    }
    seen.add(key);
  }
  return out;
}
