// The noise estimate of a comparison: after the arms finish, every arm reruns on each noise seed, one run at a time, in wall-clock slices.
import type { RunSpec } from '../scenario/resolve.ts';
import { figuresOf, noiseSeeds, onSeed, type FigureSet } from '../sim/compare.ts';
import { createSimulation, type Simulation } from '../sim/simulation.ts';
import type { NoiseProgress } from './protocol.ts';

export class NoiseEstimate {
  readonly seeds: number[];
  /** Per arm, its figures on each finished noise seed. */
  private readonly figures: FigureSet[][];
  /** Runs finished: run j is arm j mod arms on seed ⌊j ÷ arms⌋, so every seed fills in evenly. */
  private done = 0;
  private sim: Simulation | null = null;
  private disposed = false;
  /** Wall time spent simulating noise runs, for the runaway guard. */
  wallMs = 0;

  constructor(
    private readonly runs: readonly RunSpec[],
    count: number,
  ) {
    this.seeds = noiseSeeds(runs[0].seed, count);
    this.figures = runs.map(() => []);
  }

  get total(): number {
    return this.seeds.length * this.runs.length;
  }

  get finished(): boolean {
    return this.done >= this.total;
  }

  /** Events of the noise run in progress (for the events guard). */
  get events(): number {
    return this.sim?.events ?? 0;
  }

  /**
   * Simulates for about `sliceMs` of wall time; true when a noise run finished in this slice.
   * Building a run is asynchronous: a run disposed meanwhile is dropped at once.
   */
  async slice(nowMs: () => number, sliceMs: number, eventsPerChunk: number): Promise<boolean> {
    if (this.finished || this.disposed) return false;
    if (!this.sim) {
      const arm = this.done % this.runs.length;
      const seed = this.seeds[Math.floor(this.done / this.runs.length)];
      const sim = await createSimulation(onSeed(this.runs[arm], seed));
      if (this.disposed) {
        sim.dispose();
        return false;
      }
      this.sim = sim;
    }
    const sim = this.sim;
    const t0 = nowMs();
    do sim.runUntil(sim.durationUs, eventsPerChunk);
    while (!sim.done && nowMs() - t0 < sliceMs);
    this.wallMs += nowMs() - t0;
    if (!sim.done) return false;
    this.figures[this.done % this.runs.length].push(figuresOf(sim.result(0)));
    sim.dispose();
    this.sim = null;
    this.done++;
    return true;
  }

  progress(stopped?: string): NoiseProgress {
    const progress: NoiseProgress = { seeds: [...this.seeds], done: this.done, total: this.total };
    if (this.finished) progress.figures = this.figures.map((f) => [...f]);
    if (stopped) progress.stopped = stopped;
    return progress;
  }

  dispose(): void {
    this.disposed = true;
    this.sim?.dispose();
    this.sim = null;
  }
}
