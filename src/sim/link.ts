// A point-to-point network link with TCP semantics: FIFO, serialisation, latency, loss as delay.
import type { LinkSpec } from '../scenario/schema.ts';
import { sampler, type Sampler } from './dist.ts';
import type { Rng } from './rng.ts';

/**
 * Messages leave in order and take bytes*8/bandwidth to serialise, then a propagation delay drawn
 * from the latency distribution plus uniform jitter. A lost transmission is resent after the RTO,
 * and because the link is one TCP stream, everything behind it waits (head-of-line blocking).
 */
export class Link {
  messages = 0;
  bytes = 0;
  private freeAtUs = 0;
  private lastArrivalUs = 0;
  private readonly latencyMs: Sampler;
  private readonly jitterUs: number;
  private readonly lossProbability: number;
  private readonly rtoUs: number;
  private readonly bitsPerUs: number;

  constructor(
    spec: LinkSpec,
    private readonly rng: Rng,
  ) {
    this.latencyMs = sampler(spec.latencyMs, rng);
    this.jitterUs = spec.jitterMs * 1000;
    this.lossProbability = spec.lossProbability;
    this.rtoUs = spec.rtoMs * 1000;
    this.bitsPerUs = spec.bandwidthMbps;
  }

  /** Sends `bytes` at `nowUs`; returns the integer arrival time in microseconds. */
  send(nowUs: number, bytes: number): number {
    const txStart = nowUs > this.freeAtUs ? nowUs : this.freeAtUs;
    const txEnd = txStart + (bytes * 8) / this.bitsPerUs;
    this.freeAtUs = txEnd;
    let delayUs = this.latencyMs() * 1000;
    if (this.jitterUs > 0) delayUs += this.jitterUs * this.rng.float();
    while (this.lossProbability > 0 && this.rng.float() < this.lossProbability)
      delayUs += this.rtoUs;
    let arrivalUs = Math.round(txEnd + delayUs);
    if (arrivalUs < this.lastArrivalUs) arrivalUs = this.lastArrivalUs;
    this.lastArrivalUs = arrivalUs;
    this.messages++;
    this.bytes += bytes;
    return arrivalUs;
  }
}

/** WebSocket frame header bytes for a server→client frame (unmasked): 2, 4 or 10. */
export function webSocketHeaderBytes(payloadBytes: number): number {
  return payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10;
}
