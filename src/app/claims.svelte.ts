// The claims card's state: checking the guide's figures in a worker of its own, its progress, results and cancel.
import type { Claim } from '../scenario/claims-schema.ts';
import type { ClaimResult } from '../sim/claims.ts';
import {
  startClaimsWorker,
  type ClaimsHandle,
  type ClaimsRequest,
} from '../worker/claims-client.ts';
import { claimRunCount } from './shaping/claims-format.ts';

export type ClaimsPhase = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

function sameRequest(a: ClaimsRequest, b: ClaimsRequest): boolean {
  if (a.scenarioId !== b.scenarioId || a.seed !== b.seed) return false;
  const keys = new Set([...Object.keys(a.params), ...Object.keys(b.params)]);
  for (const k of keys) if (String(a.params[k]) !== String(b.params[k])) return false;
  return true;
}

export class ClaimsState {
  phase = $state<ClaimsPhase>('idle');
  /** Runs finished and runs needed, while a check is under way. */
  progress = $state.raw<{ done: number; total: number } | null>(null);
  /** The last check's results, in the scenario's claim order (null before one finished). */
  results = $state.raw<ClaimResult[] | null>(null);
  /** What the results, or the check under way, are for: scenario, parameters and seed. */
  request = $state.raw<ClaimsRequest | null>(null);
  error = $state<string | null>(null);

  private handle: ClaimsHandle | null = null;
  /** Bumped by every check and cancel, so a superseded check's late replies are ignored. */
  private token = 0;

  /** Checks the claims for these settings; a check already under way is cancelled first. */
  async check(request: ClaimsRequest, claims: readonly Claim[]): Promise<void> {
    this.stop();
    const token = ++this.token;
    const copy: ClaimsRequest = { ...request, params: { ...request.params } };
    this.request = copy;
    this.results = null;
    this.error = null;
    this.phase = 'running';
    this.progress = { done: 0, total: claimRunCount(claims, copy.params) };
    try {
      this.handle ??= startClaimsWorker();
      const results = await this.handle.evaluate(copy, (done, total) => {
        if (token === this.token) this.progress = { done, total };
      });
      if (token !== this.token) return;
      this.results = results;
      this.phase = 'done';
    } catch (error) {
      if (token !== this.token) return;
      this.phase = 'error';
      this.error = error instanceof Error ? error.message : String(error);
      // A worker that failed is not reused.
      this.handle?.terminate();
      this.handle = null;
    } finally {
      if (token === this.token) this.progress = null;
    }
  }

  /** Stops a check under way (the worker is terminated; the next check starts a fresh one). */
  cancel(): void {
    if (this.phase !== 'running') return;
    this.stop();
    this.token++;
    this.progress = null;
    this.phase = 'cancelled';
  }

  /** Whether the results (or the check under way) are for exactly these settings. */
  isFor(request: ClaimsRequest): boolean {
    return this.request !== null && sameRequest(this.request, request);
  }

  /** Forgets everything (another scenario was picked); a check under way is stopped. */
  clear(): void {
    this.stop();
    this.token++;
    this.phase = 'idle';
    this.progress = null;
    this.results = null;
    this.request = null;
    this.error = null;
  }

  dispose(): void {
    this.token++;
    this.handle?.terminate();
    this.handle = null;
  }

  private stop(): void {
    if (this.phase === 'running' && this.handle) {
      this.handle.terminate();
      this.handle = null;
    }
  }
}
