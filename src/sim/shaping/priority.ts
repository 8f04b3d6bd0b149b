// Strict-priority work queues on a server's cores, run lazily: exact without an event per job.

/** Priority classes, highest first: P0 = 0 … P3 = 3. */
export const CLASSES = 4;

/** What a core does with a job when it starts it: run it (true) or shed it (false: no CPU used). */
export type JobStart = (job: number, startUs: number, server: number) => boolean;

/** A FIFO of job ids (growable ring). */
class JobFifo {
  private ids = new Int32Array(64);
  private ready = new Float64Array(64);
  private cost = new Float64Array(64);
  private head = 0;
  private n = 0;

  get size(): number {
    return this.n;
  }

  push(id: number, readyUs: number, costUs: number): void {
    if (this.n === this.ids.length) this.grow();
    const i = (this.head + this.n) & (this.ids.length - 1);
    this.ids[i] = id;
    this.ready[i] = readyUs;
    this.cost[i] = costUs;
    this.n++;
  }

  headReadyUs(): number {
    return this.ready[this.head];
  }

  headCostUs(): number {
    return this.cost[this.head];
  }

  shift(): number {
    const id = this.ids[this.head];
    this.head = (this.head + 1) & (this.ids.length - 1);
    this.n--;
    return id;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const ids = new Int32Array(cap);
    const ready = new Float64Array(cap);
    const cost = new Float64Array(cap);
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) & (this.ids.length - 1);
      ids[k] = this.ids[i];
      ready[k] = this.ready[i];
      cost[k] = this.cost[i];
    }
    this.ids = ids;
    this.ready = ready;
    this.cost = cost;
    this.head = 0;
  }
}

/**
 * Each server's cores take the highest-priority job that is ready when a core frees up (FIFO
 * within a class; a started job is not preempted). Jobs are only started lazily, up to the time a
 * caller asks for: any job submitted later is ready later, so it could not have changed a choice
 * made before then — the schedule is exact although no job has an event of its own.
 */
export class PriorityCores {
  private readonly freeUs: Float64Array;
  private readonly fifos: JobFifo[];
  readonly busyUs: Float64Array;

  constructor(
    readonly servers: number,
    readonly cores: number,
  ) {
    this.freeUs = new Float64Array(servers * cores);
    this.busyUs = new Float64Array(servers);
    this.fifos = [];
    for (let i = 0; i < servers * CLASSES; i++) this.fifos.push(new JobFifo());
  }

  /** Queues a job of class `cls` (0 = P0) on server s, ready at `readyUs`, costing `costUs`. */
  submit(s: number, cls: number, job: number, readyUs: number, costUs: number): void {
    this.fifos[s * CLASSES + cls].push(job, readyUs, costUs);
  }

  /** Jobs waiting on server s, per class. */
  queued(s: number, cls: number): number {
    return this.fifos[s * CLASSES + cls].size;
  }

  /**
   * Work that cannot wait in a class queue (taking an update off the broker): placed at once on
   * the core that frees first, ahead of queued jobs that have not started. Returns when it ends.
   */
  runNow(s: number, readyUs: number, costUs: number): number {
    const base = s * this.cores;
    let c = base;
    for (let k = base + 1; k < base + this.cores; k++) if (this.freeUs[k] < this.freeUs[c]) c = k;
    const at = readyUs > this.freeUs[c] ? readyUs : this.freeUs[c];
    this.freeUs[c] = at + costUs;
    this.busyUs[s] += costUs;
    return at + costUs;
  }

  /** Starts, in order, every job of server s whose start time falls before `untilUs`. */
  advance(
    s: number,
    untilUs: number,
    start: JobStart,
    onBusy?: (s: number, startUs: number, us: number) => void,
  ): void {
    const base = s * this.cores;
    for (;;) {
      let c = base;
      for (let k = base + 1; k < base + this.cores; k++) if (this.freeUs[k] < this.freeUs[c]) c = k;
      const pick = this.pick(s, this.freeUs[c]);
      if (pick < 0) return;
      const fifo = this.fifos[s * CLASSES + pick];
      const at = Math.max(this.freeUs[c], fifo.headReadyUs());
      if (at >= untilUs) return;
      const cost = fifo.headCostUs();
      const job = fifo.shift();
      if (start(job, at, s)) {
        this.freeUs[c] = at + cost;
        this.busyUs[s] += cost;
        onBusy?.(s, at, cost);
      }
    }
  }

  /**
   * The class a core free at `freeUs` takes: the highest class with a job ready by then; when
   * none is ready yet, the class whose head is ready first (ties to the higher class).
   */
  private pick(s: number, freeUs: number): number {
    let earliest = -1;
    for (let cls = 0; cls < CLASSES; cls++) {
      const f = this.fifos[s * CLASSES + cls];
      if (f.size === 0) continue;
      if (f.headReadyUs() <= freeUs) return cls;
      if (earliest < 0 || f.headReadyUs() < this.fifos[s * CLASSES + earliest].headReadyUs())
        earliest = cls;
    }
    return earliest;
  }

  /** Microseconds of queued work on server s (for the queue-length figure). */
  backlogUs(s: number, nowUs: number): number {
    let sum = 0;
    for (let k = s * this.cores; k < (s + 1) * this.cores; k++)
      if (this.freeUs[k] > nowUs) sum += this.freeUs[k] - nowUs;
    return sum;
  }
}
