// Checker: once faults have healed, every client is connected again and up to date.

/**
 * `disconnected` clients without a connection at the end; `maxBehind` the largest gap between a
 * client's last applied sequence number and its channel's latest. `allowedBehind` covers what is
 * legitimately still in flight at the end of the run.
 */
export function checkConvergence(
  disconnected: number,
  maxBehind: number,
  allowedBehind: number,
): string[] {
  const out: string[] = [];
  if (disconnected > 0) out.push(`${disconnected} clients still disconnected at the end`);
  if (maxBehind > allowedBehind)
    out.push(`a client is ${maxBehind} updates behind its channel (allowed ${allowedBehind})`);
  return out;
}
