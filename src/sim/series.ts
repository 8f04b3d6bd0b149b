// Fixed-interval time series: per-bucket accumulators, closed one by one as the clock passes them.
import type { Series } from './types.ts';

/** At most this many points per series, whatever the duration (the interval grows instead). */
export const MAX_SERIES_POINTS = 600;

/** The sampling interval for a run: the scenario's, or longer so the series stays bounded. */
export function sampleIntervalUs(sampleIntervalMs: number, durationUs: number): number {
  const minMs = Math.ceil(durationUs / 1000 / MAX_SERIES_POINTS);
  return Math.max(Math.round(sampleIntervalMs), minMs) * 1000;
}

/**
 * Counts that happen at a known time (bytes sent, CPU busy) go straight into their bucket, even a
 * future one; values sampled at the end of an interval (queue lengths, percentiles) are written
 * when the interval closes.
 */
export class SeriesRecorder {
  readonly buckets: number;
  readonly delivered: Float64Array;
  readonly produced: Float64Array;
  readonly dropped: Float64Array;
  readonly hop1Bytes: Float64Array;
  readonly hop2Bytes: Float64Array;
  /** CPU busy microseconds per (server, bucket), server-major. */
  readonly serverBusyUs: Float64Array;
  private rows: {
    tS: number[];
    p50: number[];
    p99: number[];
    max: number[];
    inFlight: number[];
    cpuMax: number[];
    cpuMean: number[];
    queueMax: number[];
    connMin: number[];
    connMax: number[];
  } = {
    tS: [],
    p50: [],
    p99: [],
    max: [],
    inFlight: [],
    cpuMax: [],
    cpuMean: [],
    queueMax: [],
    connMin: [],
    connMax: [],
  };

  constructor(
    readonly intervalUs: number,
    durationUs: number,
    readonly servers: number,
  ) {
    this.buckets = Math.max(1, Math.ceil(durationUs / intervalUs));
    const n = this.buckets + 1;
    this.delivered = new Float64Array(n);
    this.produced = new Float64Array(n);
    this.dropped = new Float64Array(n);
    this.hop1Bytes = new Float64Array(n);
    this.hop2Bytes = new Float64Array(n);
    this.serverBusyUs = new Float64Array(servers * n);
  }

  /** Bucket of a time; times past the end land in the spare last bucket. */
  bucket(timeUs: number): number {
    const b = Math.floor(timeUs / this.intervalUs);
    return b < this.buckets ? b : this.buckets;
  }

  get closed(): number {
    return this.rows.tS.length;
  }

  /** Closes the next interval with the values sampled at its end. */
  close(
    endUs: number,
    latencyUs: { p50: number; p99: number; max: number; count: number },
    inFlight: number,
    serverQueues: Int32Array | number[],
    connections: Int32Array,
  ): void {
    const b = this.closed;
    const r = this.rows;
    const startUs = b * this.intervalUs;
    const widthUs = Math.max(1, endUs - startUs);
    r.tS.push(endUs / 1e6);
    r.p50.push(latencyUs.count ? latencyUs.p50 / 1000 : NaN);
    r.p99.push(latencyUs.count ? latencyUs.p99 / 1000 : NaN);
    r.max.push(latencyUs.count ? latencyUs.max / 1000 : NaN);
    r.inFlight.push(inFlight);
    const n = this.buckets + 1;
    let cpuMax = 0;
    let cpuSum = 0;
    let queueMax = 0;
    let connMin = Infinity;
    let connMax = 0;
    for (let s = 0; s < this.servers; s++) {
      const share = this.serverBusyUs[s * n + b] / widthUs;
      cpuSum += share;
      if (share > cpuMax) cpuMax = share;
      if (serverQueues[s] > queueMax) queueMax = serverQueues[s];
      if (connections[s] < connMin) connMin = connections[s];
      if (connections[s] > connMax) connMax = connections[s];
    }
    r.cpuMax.push(cpuMax);
    r.cpuMean.push(cpuSum / this.servers);
    r.queueMax.push(queueMax);
    r.connMin.push(connMin);
    r.connMax.push(connMax);
  }

  /** The closed intervals as plain arrays. */
  toSeries(): Series {
    const r = this.rows;
    const k = this.closed;
    const perSec = (a: Float64Array) => {
      const out: number[] = [];
      for (let b = 0; b < k; b++) {
        const widthS = (r.tS[b] * 1e6 - b * this.intervalUs) / 1e6;
        out.push(a[b] / widthS);
      }
      return out;
    };
    return {
      intervalMs: this.intervalUs / 1000,
      tS: r.tS.slice(),
      deliveriesPerSec: perSec(this.delivered),
      producedPerSec: perSec(this.produced),
      latencyMsP50: r.p50.slice(),
      latencyMsP99: r.p99.slice(),
      latencyMsMax: r.max.slice(),
      hop1BytesPerSec: perSec(this.hop1Bytes),
      hop2BytesPerSec: perSec(this.hop2Bytes),
      inFlight: r.inFlight.slice(),
      dropped: Array.from(this.dropped.subarray(0, k)),
      serverCpuMax: r.cpuMax.slice(),
      serverCpuMean: r.cpuMean.slice(),
      serverQueueMax: r.queueMax.slice(),
      serverConnectionsMin: r.connMin.slice(),
      serverConnectionsMax: r.connMax.slice(),
    };
  }
}
