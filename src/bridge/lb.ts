// A real load balancer: a TCP proxy that reads the first HTTP request head (a WebSocket upgrade),
// picks a backend by the scenario's strategy — the simulator's own Balancer (round robin, least
// connections, IP hash, cookie, consistent hashing) — and then pipes bytes both ways.
// Health checks (GET /health every interval, evict after `unhealthyThreshold` failures) plus a
// passive check: a backend that refuses a connection is evicted at once and the next one tried.
import http from 'node:http';
import net from 'node:net';
import { Balancer, type Strategy } from '../sim/models/cluster/balancer.ts';
import { Rng } from '../sim/rng.ts';
import { LOOPBACK } from './common.ts';

/** Largest request head the proxy reads before choosing a backend. */
const MAX_HEAD_BYTES = 16 * 1024;

export interface LbOptions {
  strategy: string;
  virtualNodes: number;
  healthCheckIntervalS: number;
  unhealthyThreshold: number;
  seed: number;
}

export class LoadBalancer {
  private server: net.Server | null = null;
  private readonly balancer: Balancer;
  private readonly backends: number[] = [];
  private readonly healthy = new Set<number>();
  private readonly fails: number[] = [];
  private readonly conns: Int32Array;
  private readonly sockets = new Set<net.Socket>();
  private healthTimer: NodeJS.Timeout | null = null;
  port = 0;
  routed = 0;
  evictions = 0;

  constructor(
    ports: number[],
    private readonly opts: LbOptions,
  ) {
    this.backends = ports.slice();
    this.conns = new Int32Array(64);
    this.balancer = new Balancer(
      opts.strategy as Strategy,
      opts.virtualNodes,
      new Rng(opts.seed).fork('bridge/lb'),
    );
    ports.forEach((_, i) => {
      this.healthy.add(i);
      this.fails[i] = 0;
    });
    this.update();
  }

  private update(): void {
    this.balancer.setHealthy([...this.healthy].sort((a, b) => a - b));
  }

  connectionsPer(): number[] {
    return this.backends.map((_, i) => this.conns[i]);
  }

  async start(): Promise<number> {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = 20_000;
    await new Promise<void>((resolve) => this.server!.listen(0, LOOPBACK, resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    this.healthTimer = setInterval(() => this.check(), this.opts.healthCheckIntervalS * 1000);
    this.healthTimer.unref();
    return this.port;
  }

  async stop(): Promise<void> {
    if (this.healthTimer) clearInterval(this.healthTimer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private setHealth(i: number, ok: boolean): void {
    if (ok) {
      this.fails[i] = 0;
      if (!this.healthy.has(i)) {
        this.healthy.add(i);
        this.update();
      }
      return;
    }
    if (++this.fails[i] >= this.opts.unhealthyThreshold && this.healthy.has(i)) this.evict(i);
  }

  private evict(i: number): void {
    if (!this.healthy.delete(i)) return;
    this.evictions++;
    this.update();
  }

  /** Active health checks: GET /health on every backend. */
  private check(): void {
    this.backends.forEach((port, i) => {
      const req = http.get({ host: LOOPBACK, port, path: '/health', timeout: 1000 }, (res) => {
        res.resume();
        this.setHealth(i, res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => this.setHealth(i, false));
    });
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      this.route(client, head, head.subarray(0, end).toString('latin1'), new Set());
    };
    client.on('data', onData);
  }

  private route(client: net.Socket, head: Buffer, text: string, tried: Set<number>): void {
    const header = (name: string) => {
      const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text);
      return m ? m[1].trim() : '';
    };
    const user = Number(/[?&]u=(\d+)/.exec(text)?.[1] ?? 0);
    // The client's address as the scenario sees it (users behind one NAT share an address).
    const ip = Number(header('x-hoplab-ip') || 0);
    const cookie = Number(/hoplab-server=(\d+)/.exec(header('cookie'))?.[1] ?? -1);
    const i = this.balancer.route(user, ip, cookie, this.conns);
    if (i < 0 || tried.has(i) || client.destroyed) {
      client.destroy();
      return;
    }
    tried.add(i);
    const upstream = net.connect(this.backends[i], LOOPBACK);
    upstream.setNoDelay(true);
    let connected = false;
    upstream.on('connect', () => {
      connected = true;
      this.routed++;
      this.conns[i]++;
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) {
        // Passive health check: a refused connection evicts the backend; try another one.
        this.evict(i);
        this.route(client, head, text, tried);
      }
    });
    upstream.on('close', () => {
      if (connected) {
        this.conns[i]--;
        client.destroy();
      }
    });
    client.on('close', () => upstream.destroy());
  }
}
