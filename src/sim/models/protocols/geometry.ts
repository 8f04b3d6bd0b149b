// Where clients sit: a last-mile delay each plus a position, so paths obey the triangle inequality.
import type { Rng } from '../../rng.ts';

/** Groups this small (a game lobby, a call) are matched by region: their members sit together. */
const CLUSTER_MAX_MEMBERS = 64;
/** Radius of a clustered group, as a share of the disc's radius. */
const CLUSTER_RADIUS_SHARE = 0.1;

/**
 * Clients are scattered uniformly over a disc with the server (and the TURN relay) at its centre;
 * members of a small group (client i is in group i mod groups) are placed around a common point,
 * as matchmaking by region does, while the members of a big feed are spread over the whole disc.
 * A one-way delay is: the sender's last mile + the straight-line distance + the receiver's last
 * mile (servers have none) + a small queueing noise. Because distances are Euclidean, a relayed
 * path (a → relay → b) is never shorter than the direct one (a → b), and peers reach each other
 * faster directly than through the server — WebRTC's advantage falls out of geometry, not a
 * constant. `rttMs` sets the scale: the median client–server round trip is close to it.
 */
export class Geometry {
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** One-way last-mile delay of each client, µs. */
  readonly accessUs: Float64Array;
  /** One-way distance of each client to the server, µs. */
  readonly toServerUs: Float64Array;
  /** Radius of the disc, µs: no client is farther from the server. */
  readonly radiusUs: number;
  private readonly noiseMeanUs: number;

  constructor(
    clients: number,
    groups: number,
    rttMs: number,
    accessShare: number,
    jitterShare: number,
    private readonly rng: Rng,
  ) {
    const oneWayUs = (rttMs * 1000) / 2;
    const accessMedianUs = accessShare * oneWayUs;
    // The median distance from the centre of a uniform disc of radius R is R / √2.
    const radiusUs = (1 - accessShare) * oneWayUs * Math.SQRT2;
    this.radiusUs = radiusUs;
    this.noiseMeanUs = jitterShare * oneWayUs;
    this.x = new Float64Array(clients);
    this.y = new Float64Array(clients);
    this.accessUs = new Float64Array(clients);
    this.toServerUs = new Float64Array(clients);
    const clustered = Math.ceil(clients / groups) <= CLUSTER_MAX_MEMBERS;
    const cx = new Float64Array(clustered ? groups : 0);
    const cy = new Float64Array(clustered ? groups : 0);
    for (let g = 0; g < cx.length; g++) {
      const r = radiusUs * (1 - CLUSTER_RADIUS_SHARE) * Math.sqrt(rng.float());
      const theta = 2 * Math.PI * rng.float();
      cx[g] = r * Math.cos(theta);
      cy[g] = r * Math.sin(theta);
    }
    for (let i = 0; i < clients; i++) {
      const spread = clustered ? radiusUs * CLUSTER_RADIUS_SHARE : radiusUs;
      const r = spread * Math.sqrt(rng.float());
      const theta = 2 * Math.PI * rng.float();
      this.x[i] = (clustered ? cx[i % groups] : 0) + r * Math.cos(theta);
      this.y[i] = (clustered ? cy[i % groups] : 0) + r * Math.sin(theta);
      this.toServerUs[i] = Math.sqrt(this.x[i] * this.x[i] + this.y[i] * this.y[i]);
      // Last mile: lognormal around the median, p99 three times the median.
      this.accessUs[i] = accessMedianUs * Math.exp(0.4723 * rng.normal());
    }
  }

  /** Queueing noise added to one message's trip. */
  noiseUs(): number {
    if (this.noiseMeanUs === 0) return 0;
    return -this.noiseMeanUs * Math.log(1 - this.rng.float());
  }

  /** Queueing noise from a given uniform draw in [0, 1) (for draws keyed by what they are about). */
  noiseFromUniform(u: number): number {
    return this.noiseMeanUs === 0 ? 0 : -this.noiseMeanUs * Math.log(1 - u);
  }

  /** Client ↔ server one-way delay without noise. */
  serverPathUs(i: number): number {
    return this.accessUs[i] + this.toServerUs[i];
  }

  /** Client a → client b directly. */
  peerPathUs(a: number, b: number): number {
    const dx = this.x[a] - this.x[b];
    const dy = this.y[a] - this.y[b];
    return this.accessUs[a] + Math.sqrt(dx * dx + dy * dy) + this.accessUs[b];
  }

  /** Client a → relay at the centre → client b. */
  relayPathUs(a: number, b: number): number {
    return this.serverPathUs(a) + this.serverPathUs(b);
  }

  get byteLength(): number {
    return this.x.byteLength * 4;
  }
}

/** A stable pseudo-random number in [0, 1) for a pair of ids, consuming no stream. */
export function pairHash(seed: number, a: number, b: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (a + 0x7f4a7c15), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ (b + 0x165667b1), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
