// The fleet's nodes and whether each is up — servers, load balancer, broker — with geo routing, health checks and the autoscaler.
import { ScenarioError } from '../../../scenario/errors.ts';
import { CpuPool } from '../../cpu.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import { Balancer } from './balancer.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import { EV_HEALTH } from './events.ts';
import type { FaultSchedule } from './schedule.ts';

/** Room kept for scale-outs injected while the run goes on. */
export const INJECTED_SCALE_OUTS = 2;

export class Fleet {
  readonly maxServers: number;
  serverCount: number;
  readonly alive: Uint8Array;
  readonly draining: Uint8Array;
  readonly serverEpoch: Int32Array;
  readonly conns: Int32Array;
  readonly acceptFreeUs: Float64Array;
  readonly cpus: CpuPool[];
  private readonly healthFails: Int32Array;
  lbUp = true;
  brokerUp = true;
  brokerEpoch = 0;
  /** The autoscaler waits for its last server to boot before it adds another. */
  private bootingUntilUs = 0;
  private autoscaled = 0;
  private readonly balancer: Balancer;
  /** One balancer per region, over that region's healthy servers (geo routing). */
  private readonly regional: Balancer[];
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly paths: Record<RecoveryPath, number>;

  constructor(
    private readonly ctx: ClusterContext,
    root: Rng,
    private readonly schedule: FaultSchedule,
  ) {
    const t = ctx.t;
    this.t = t;
    this.queue = ctx.queue;
    this.paths = ctx.paths;
    const scaleOuts = t.faults.filter((f) => f.kind === 'scale-out').length;
    for (const f of t.faults)
      if (
        (f.kind === 'server-crash' || f.kind === 'graceful-shutdown') &&
        f.target >= t.servers + scaleOuts
      )
        throw new ScenarioError(
          'faults',
          `${f.kind} at ${f.atS} s targets server ${f.target}, but there are ${t.servers}`,
        );
    // Room for two scale-outs injected while the run goes on.
    const autoscaled =
      t.server.autoscale.enabled === 'on'
        ? Math.max(0, t.server.autoscale.maxServers - t.servers)
        : 0;
    this.maxServers = t.servers + scaleOuts + autoscaled + INJECTED_SCALE_OUTS;
    this.serverCount = t.servers;
    const S = this.maxServers;
    this.alive = new Uint8Array(S);
    this.alive.fill(1, 0, t.servers);
    this.draining = new Uint8Array(S);
    this.serverEpoch = new Int32Array(S);
    this.conns = new Int32Array(S);
    this.acceptFreeUs = new Float64Array(S);
    this.cpus = Array.from({ length: S }, () => new CpuPool(t.server.cores));
    this.healthFails = new Int32Array(S);
    this.balancer = new Balancer(
      t.loadBalancer.strategy,
      t.loadBalancer.virtualNodes,
      root.fork('balancer'),
    );
    this.regional = Array.from(
      { length: t.regions },
      (_, r) =>
        new Balancer(
          t.loadBalancer.strategy,
          t.loadBalancer.virtualNodes,
          root.fork(`balancer/${r}`),
        ),
    );
    this.setHealthy(Array.from({ length: t.servers }, (_, s) => s));
  }

  /** The servers in the balancer's rotation. */
  get healthyServers(): readonly number[] {
    return this.balancer.healthyServers;
  }

  /** Keeps the global view of healthy servers and each region's balancer in step. */
  setHealthy(servers: readonly number[]): void {
    this.balancer.setHealthy(servers);
    this.regional.forEach((b, r) => b.setHealthy(servers.filter((s) => s % this.t.regions === r)));
  }

  /** Geo routing: the user's own region first; another region only when its own has no server. */
  route(u: number, cookie: number): number {
    const ip = Math.floor(u / this.t.loadBalancer.usersPerIp);
    const home = this.regional[u % this.t.regions].route(u, ip, cookie, this.conns);
    return home >= 0 ? home : this.balancer.route(u, ip, cookie, this.conns);
  }

  aliveServers(): number {
    let n = 0;
    for (let s = 0; s < this.serverCount; s++) if (this.alive[s] && !this.draining[s]) n++;
    return n;
  }

  /** The first health check; each schedules the next. */
  start(): void {
    this.queue.push(Math.round(this.t.loadBalancer.healthCheckIntervalS * 1e6), EV_HEALTH, 0);
  }

  /** Health checks: a server that fails `unhealthyThreshold` checks in a row leaves the rotation. */
  onHealth(now: number): void {
    const lb = this.t.loadBalancer;
    const healthy: number[] = [];
    for (let s = 0; s < this.serverCount; s++) {
      if (this.draining[s]) continue;
      this.healthFails[s] = this.alive[s] ? 0 : this.healthFails[s] + 1;
      const wasHealthy = this.balancer.healthyServers.includes(s);
      if (this.alive[s] || (wasHealthy && this.healthFails[s] < lb.unhealthyThreshold))
        healthy.push(s);
    }
    const before = this.balancer.healthyServers;
    if (healthy.length !== before.length || healthy.some((s, k) => s !== before[k])) {
      if (healthy.length < before.length) this.paths.healthEviction++;
      this.setHealthy(healthy);
    }
    this.autoscale(now);
    const next = Math.round(now + lb.healthCheckIntervalS * 1e6);
    if (next <= this.ctx.durationUs) this.queue.push(next, EV_HEALTH, 0);
  }

  /**
   * The autoscaler looks at the same interval as the health checks: when the mean connections per
   * live server pass the target, it starts one more server, usable after it has booted.
   */
  private autoscale(now: number): void {
    const a = this.t.server.autoscale;
    if (a.enabled !== 'on' || this.bootingUntilUs > now) return;
    const live = this.aliveServers();
    if (
      live === 0 ||
      this.serverCount >= Math.min(a.maxServers, this.maxServers - INJECTED_SCALE_OUTS)
    )
      return;
    let connections = 0;
    for (let s = 0; s < this.serverCount; s++) connections += this.conns[s];
    if (connections / live <= a.targetConnections) return;
    this.bootingUntilUs = now + a.bootS * 1e6;
    this.autoscaled++;
    this.schedule.scaleOutAt(this.bootingUntilUs);
  }
}
