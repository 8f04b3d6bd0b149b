// Checker: under exactly-once, no update takes effect twice (duplicates are recognised and dropped).
import type { RunResult } from '../types.ts';

export function checkExactlyOnce(r: RunResult): string[] {
  if (r.clusterStats?.guarantee !== 'exactly-once') return [];
  return r.duplicated === 0 ? [] : [`${r.duplicated} duplicates applied under exactly-once`];
}
