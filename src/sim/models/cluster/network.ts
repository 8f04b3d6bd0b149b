// One-way delays between the cluster's nodes, and the slow links (delay, loss, a bandwidth cap) that faults put on a server's user links.
import type { Rng } from '../../rng.ts';
import type { ClusterTopology } from './context.ts';

export class Network {
  /** slow-link faults: extra delay and loss on each server's user links, until a time. */
  private readonly linkExtraUs: Float64Array;
  private readonly linkLoss: Float64Array;
  private readonly linkUntilUs: Float64Array;
  /** slow-link bandwidth caps: a FIFO shared by a server's user links (bits per µs; 0 = none). */
  private readonly linkBitsPerUs: Float64Array;
  private readonly linkFreeUs: Float64Array;

  /**
   * @param rng The network's stream: jitter and losses here, and the heartbeat and poll phases
   * the other parts draw from it (one stream, in the order the run draws them).
   */
  constructor(
    private readonly t: ClusterTopology,
    servers: number,
    readonly rng: Rng,
    private readonly clock: { readonly nowUs: number },
  ) {
    this.linkExtraUs = new Float64Array(servers);
    this.linkLoss = new Float64Array(servers);
    this.linkUntilUs = new Float64Array(servers);
    this.linkBitsPerUs = new Float64Array(servers);
    this.linkFreeUs = new Float64Array(servers);
  }

  /** User u ↔ its server s, one way: the access path, plus the ocean if the server is abroad. */
  oneWayUs(u: number, s: number): number {
    const base = (this.t.network.rttMs * 1000) / 2;
    const j = this.t.network.jitterShare;
    const abroad = u % this.t.regions !== s % this.t.regions;
    let us =
      base +
      (abroad ? this.t.interRegionMs * 1000 : 0) +
      (j > 0 ? -j * base * Math.log(1 - this.rng.float()) : 0);
    if (this.linkUntilUs[s] > this.clock.nowUs) {
      // A degraded link: extra delay, and TCP resending after an RTO (three round trips) per loss.
      us += this.linkExtraUs[s];
      while (this.linkLoss[s] > 0 && this.rng.float() < this.linkLoss[s])
        us += Math.max(200_000, 3 * this.t.network.rttMs * 1000);
    }
    return us;
  }

  /** Source → broker, one way (both in region 0). */
  brokerUs(): number {
    return this.t.broker.latencyMs * 1000;
  }

  /** Broker → server s, one way: servers outside region 0 are an inter-region hop away. */
  brokerToServerUs(s: number): number {
    return this.brokerUs() + (s % this.t.regions !== 0 ? this.t.interRegionMs * 1000 : 0);
  }

  /** Server o relays to server s (a consumer group's owner to the others): one intra-region hop. */
  relayUs(o: number, s: number): number {
    const R = this.t.regions;
    return this.t.broker.latencyMs * 1000 + (s % R !== o % R ? this.t.interRegionMs * 1000 : 0);
  }

  /**
   * When a frame of `bytes` the CPU finished writing at `sentUs` leaves server s. A bandwidth cap
   * on the server's user links: frames queue for the shared pipe. When the cap lifts, what is
   * still queued goes at the link's full speed.
   */
  departUs(s: number, sentUs: number, bytes: number, now: number): number {
    let leaves = sentUs;
    if (this.linkBitsPerUs[s] > 0 && this.linkUntilUs[s] > now) {
      leaves = Math.min(
        this.linkUntilUs[s],
        Math.max(sentUs, this.linkFreeUs[s]) + (bytes * 8) / this.linkBitsPerUs[s],
      );
      this.linkFreeUs[s] = leaves;
    }
    return leaves;
  }

  /** A slow-link fault on server s's user links, in force until `untilUs`. */
  slow(
    s: number,
    extraUs: number,
    loss: number,
    bitsPerUs: number,
    now: number,
    untilUs: number,
  ): void {
    this.linkExtraUs[s] = extraUs;
    this.linkLoss[s] = loss;
    this.linkBitsPerUs[s] = bitsPerUs;
    this.linkFreeUs[s] = now;
    this.linkUntilUs[s] = untilUs;
  }

  /** The slow link of server s recovers now. */
  restore(s: number, now: number): void {
    this.linkUntilUs[s] = now;
  }

  /** Whether a slow-link fault holds server s's user links at `now`. */
  isSlow(s: number, now: number): boolean {
    return this.linkUntilUs[s] > now;
  }
}
