// The claims worker: runs a scenario's claims (the guide's figures, checked) off the page's thread and off the lab's run; cancelled by terminating it.
import { expose } from 'comlink';
import { getScenario } from '../scenario/registry.ts';
import { evaluateClaims, type ClaimResult } from '../sim/claims.ts';

/** What to check: a scenario from the registry with the reader's parameters and seed. */
export interface ClaimsRequest {
  scenarioId: string;
  params: Record<string, number | string>;
  seed: number;
}

export const api = {
  /**
   * Runs every distinct configuration the claims need to its end, one after another, and says
   * how far it got after each run. The runs are synchronous slices, so a cancel flag could not be
   * read between them: the page cancels by terminating this worker.
   */
  async evaluate(
    request: ClaimsRequest,
    progress: (done: number, total: number) => void,
  ): Promise<ClaimResult[]> {
    const scenario = getScenario(request.scenarioId);
    return evaluateClaims(scenario, {
      params: request.params,
      seed: request.seed,
      // A comlink proxy: the call posts a message at once, even while this thread keeps running.
      progress: (done, total) => void progress(done, total),
    });
  },
};

export type ClaimsApi = typeof api;

expose(api);
