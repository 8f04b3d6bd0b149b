// The page's handle on the simulation worker: a typed comlink wrapper plus crash reporting.
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { SimApi } from './sim.worker.ts';
import type { RunUpdate } from './protocol.ts';

export type SimClient = Remote<SimApi>;

export interface WorkerHandle {
  api: SimClient;
  dispose(): void;
}

/**
 * Starts the worker and subscribes `onUpdate` to its stream. `onCrash` hears failures that
 * happen outside any call, such as the worker script failing to load.
 */
export function startSimWorker(
  onUpdate: (update: RunUpdate) => void,
  onCrash: (message: string) => void,
): WorkerHandle {
  const worker = new Worker(new URL('./sim.worker.ts', import.meta.url), { type: 'module' });
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    onCrash(event.message || 'the simulation worker could not start');
  });
  worker.addEventListener('messageerror', () =>
    onCrash('a message from the worker was unreadable'),
  );
  const api = wrap<SimApi>(worker);
  void api.subscribe(proxy(onUpdate)).catch((error: unknown) => onCrash(String(error)));
  return {
    api,
    dispose() {
      api[releaseProxy]();
      worker.terminate();
    },
  };
}
