// Checker: every owed delivery is accounted for — delivered, dropped, resynced, superseded by a newer value, or still on its way.
import type { RunResult } from '../types.ts';

/** Violations as sentences (empty when the invariant holds). */
export function checkConservation(r: RunResult): string[] {
  const resynced = r.clusterStats?.resynced ?? 0;
  const superseded = r.superseded ?? 0;
  const out: string[] = [];
  const accounted = r.delivered + r.dropped + resynced + superseded + r.inFlight;
  if (accounted !== r.fanout)
    out.push(
      `owed ${r.fanout} but delivered + dropped + resynced + superseded + in flight = ${accounted}`,
    );
  if (r.inFlight < 0) out.push(`in flight is negative (${r.inFlight}): more delivered than owed`);
  return out;
}
