// The page's handle on the claims worker: a typed comlink wrapper; cancelling terminates the worker (the next check starts a new one).
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { ClaimResult } from '../sim/claims.ts';
import type { ClaimsApi, ClaimsRequest } from './claims.worker.ts';

export type { ClaimsRequest };

export interface ClaimsHandle {
  /** Checks the claims, calling `onProgress` after each run; rejects if the worker fails or is terminated. */
  evaluate(
    request: ClaimsRequest,
    onProgress: (done: number, total: number) => void,
  ): Promise<ClaimResult[]>;
  /** Stops the worker at once, mid-run included. */
  terminate(): void;
}

export function startClaimsWorker(): ClaimsHandle {
  const worker = new Worker(new URL('./claims.worker.ts', import.meta.url), { type: 'module' });
  const api: Remote<ClaimsApi> = wrap<ClaimsApi>(worker);
  // A pending call never settles after terminate(); this rejects it, so the page does not wait forever.
  let fail: ((error: Error) => void) | null = null;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    fail?.(new Error(event.message || 'the claims worker could not start'));
  });
  return {
    evaluate(request, onProgress) {
      return Promise.race([api.evaluate(request, proxy(onProgress)), failed]);
    },
    terminate() {
      fail?.(new Error('cancelled'));
      api[releaseProxy]();
      worker.terminate();
    },
  };
}
