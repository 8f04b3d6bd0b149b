// The simulation worker: exposes the run controls to the page through comlink and streams paced updates back.
import { expose } from 'comlink';
import { SimRunner } from './runner.ts';
import type { Speed } from './limits.ts';
import type { InjectResult, LoadResult, RunRequest, RunUpdate } from './protocol.ts';

type Listener = (update: RunUpdate) => void;
let listener: Listener | null = null;

// A MessageChannel turn yields to the worker's message loop without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
const pending: Array<() => void> = [];
channel.port1.onmessage = () => pending.shift()?.();

const runner = new SimRunner({
  nowMs: () => performance.now(),
  schedule(fn, delayMs) {
    if (delayMs > 0) setTimeout(fn, delayMs);
    else {
      pending.push(fn);
      channel.port2.postMessage(null);
    }
  },
  emit(update) {
    // The callback is a comlink proxy; a page that went away must not crash the run loop.
    void Promise.resolve(listener?.(update)).catch(() => {});
  },
});

function report(message: string): void {
  listener?.({
    runId: -1,
    status: { phase: 'error', message, effectiveSpeed: 0, wallMs: 0 },
    snapshot: null,
    trace: [],
  });
}

self.addEventListener('error', (event) => {
  report(`The simulation worker crashed: ${event.message}. Reload the page to start again.`);
});
self.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
  report(
    `The simulation worker hit an unexpected error: ${reason}. Press Reset or reload the page.`,
  );
});

export const api = {
  /** Registers the page's update callback (a comlink proxy). */
  subscribe(callback: Listener): void {
    listener = callback;
  },
  load(request: RunRequest): Promise<LoadResult> {
    return runner.load(request);
  },
  start(): void {
    runner.start();
  },
  pause(): void {
    runner.pause();
  },
  resume(): void {
    runner.start();
  },
  step(): void {
    runner.step();
  },
  setSpeed(speed: Speed): void {
    runner.setSpeed(speed);
  },
  /** Rebuilds the run at t = 0, with new parameters or seed if given. */
  reset(request: RunRequest): Promise<LoadResult> {
    return runner.load(request);
  },
  cancel(): void {
    runner.cancel();
  },
  /** Injects a fault now (cluster runs); replies with the whole schedule or a field-named refusal. */
  injectFault(fault: unknown): InjectResult {
    return runner.inject(fault);
  },
};

export type SimApi = typeof api;

expose(api);
