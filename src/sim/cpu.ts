// A server's cores as earliest-free times: work queues when every core is busy.

/** Work is placed on the core that frees up first; busy time is counted for utilisation. */
export class CpuPool {
  private readonly freeAt: Float64Array;
  busyUs = 0;

  constructor(readonly cores: number) {
    this.freeAt = new Float64Array(cores);
  }

  /** Runs `costUs` of work no earlier than `readyUs`; returns when it finishes. */
  run(readyUs: number, costUs: number): number {
    const f = this.freeAt;
    let c = 0;
    for (let k = 1; k < f.length; k++) if (f[k] < f[c]) c = k;
    const start = readyUs > f[c] ? readyUs : f[c];
    const end = start + costUs;
    f[c] = end;
    this.busyUs += costUs;
    return end;
  }

  /** Microseconds of queued work beyond `nowUs`, summed over cores. */
  backlogUs(nowUs: number): number {
    let sum = 0;
    for (let k = 0; k < this.freeAt.length; k++)
      if (this.freeAt[k] > nowUs) sum += this.freeAt[k] - nowUs;
    return sum;
  }
}
