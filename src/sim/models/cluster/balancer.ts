// Load-balancing strategies for stateful connections: which server a new connection goes to.
import { hashString } from '../../rng.ts';
import type { Rng } from '../../rng.ts';

export type Strategy =
  'round-robin' | 'least-connections' | 'ip-hash' | 'cookie' | 'consistent-hash';

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A hash ring with `vnodes` points per server; a key goes to the first point clockwise. */
export class HashRing {
  private points: Float64Array = new Float64Array(0);
  private owners: Int32Array = new Int32Array(0);

  constructor(private readonly vnodes: number) {}

  rebuild(servers: readonly number[]): void {
    const pts: [number, number][] = [];
    for (const s of servers)
      for (let v = 0; v < this.vnodes; v++) pts.push([hashString(`server-${s}#${v}`), s]);
    pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Float64Array.from(pts, (p) => p[0]);
    this.owners = Int32Array.from(pts, (p) => p[1]);
  }

  lookup(key: number): number {
    const n = this.points.length;
    if (n === 0) return -1;
    const h = mix(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo];
  }
}

/**
 * Routes connections over the servers the balancer believes healthy. `connections` is read for
 * least-connections; `cookie` is the server a user was on before (sticky), or -1.
 */
export class Balancer {
  private next = 0;
  private readonly ring: HashRing;
  private healthy: number[] = [];

  constructor(
    readonly strategy: Strategy,
    vnodes: number,
    private readonly rng: Rng,
  ) {
    this.ring = new HashRing(vnodes);
  }

  setHealthy(servers: readonly number[]): void {
    this.healthy = servers.slice();
    if (this.strategy === 'consistent-hash') this.ring.rebuild(this.healthy);
  }

  get healthyServers(): readonly number[] {
    return this.healthy;
  }

  route(user: number, ip: number, cookie: number, connections: Int32Array): number {
    const h = this.healthy;
    if (h.length === 0) return -1;
    switch (this.strategy) {
      case 'round-robin':
        return h[this.next++ % h.length];
      case 'least-connections': {
        let best = h[0];
        for (const s of h) if (connections[s] < connections[best]) best = s;
        return best;
      }
      case 'ip-hash':
        return h[mix(ip) % h.length];
      case 'cookie':
        return cookie >= 0 && h.includes(cookie) ? cookie : h[this.next++ % h.length];
      case 'consistent-hash':
        return this.ring.lookup(user);
    }
  }

  /** Random tie-free pick used when a client retries a full server (not part of any strategy). */
  any(): number {
    return this.healthy.length ? this.healthy[this.rng.int(this.healthy.length)] : -1;
  }
}

/**
 * Share of users whose server changes when one server is added to `servers`, if every user were
 * routed afresh — what a scale-out does to sticky state. Consistent hashing moves about 1/(n+1);
 * modulo-style hashing moves about n/(n+1).
 */
export function remappedShare(
  strategy: Strategy,
  users: number,
  usersPerIp: number,
  servers: number,
  vnodes: number,
  rng: Rng,
): number {
  const before = new Balancer(strategy, vnodes, rng.fork('before'));
  const after = new Balancer(strategy, vnodes, rng.fork('after'));
  const list = Array.from({ length: servers }, (_, s) => s);
  before.setHealthy(list);
  after.setHealthy([...list, servers]);
  const c0 = new Int32Array(servers + 1);
  const c1 = new Int32Array(servers + 1);
  let moved = 0;
  for (let u = 0; u < users; u++) {
    const ip = Math.floor(u / usersPerIp);
    const a = before.route(u, ip, -1, c0);
    const b = after.route(u, ip, -1, c1);
    c0[a]++;
    c1[b]++;
    if (a !== b) moved++;
  }
  return users > 0 ? moved / users : 0;
}
