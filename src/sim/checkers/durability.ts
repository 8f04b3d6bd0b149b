// Checker: a durable log (Kafka, a polled database) with history inside the window loses nothing it
// accepted (what a producer could not hand over — the broker down or cut off — is not its loss).
import type { RunResult } from '../types.ts';

/**
 * Applies when the broker keeps what producers handed it and clients can resume from it for the
 * whole run: then nothing may be lost or papered over with a resync, whatever the faults were.
 */
export function checkDurability(r: RunResult, history: string, recoveryWindowS: number): string[] {
  const c = r.clusterStats;
  if (!c || c.broker === 'redis' || history !== 'broker' || recoveryWindowS < r.simulatedSeconds)
    return [];
  const out: string[] = [];
  const lost = c.lost - (c.deliveriesLostAtBroker ?? 0);
  if (lost > 0) out.push(`${lost} deliveries lost with a durable log and history`);
  if (c.resynced > 0) out.push(`${c.resynced} updates resynced with a durable log and history`);
  return out;
}
