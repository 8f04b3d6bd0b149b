// Reconnection delays: exponential backoff (1, 2, 4, 8 … s, capped) with a choice of jitter.
import type { Rng } from '../../rng.ts';

export type Jitter = 'none' | 'full' | 'equal' | 'guide';

/**
 * The delay before attempt `attempt` (0 = the first reconnect), in µs. Without jitter every client
 * that lost its connection at the same instant comes back at the same instant — the thundering
 * herd. "full" draws uniformly in [0, backoff] (AWS's recommendation), "equal" keeps half and draws
 * the other half, "guide" adds 0–1000 ms as the source guide suggests.
 */
export function backoffUs(
  attempt: number,
  baseS: number,
  capS: number,
  jitter: Jitter,
  rng: Rng,
): number {
  const backoff = Math.min(capS, baseS * 2 ** Math.min(attempt, 30)) * 1e6;
  switch (jitter) {
    case 'none':
      return backoff;
    case 'full':
      return backoff * rng.float();
    case 'equal':
      return backoff / 2 + (backoff / 2) * rng.float();
    case 'guide':
      return backoff + 1e6 * rng.float();
  }
}
