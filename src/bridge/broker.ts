// The in-process broker: a small pub/sub with a per-channel log, in the bridge's main process,
// reached over a loopback TCP socket (newline-delimited JSON), so a fresh machine needs nothing.
//
// Operations (client → broker): `sub` {group?, channels, replay} subscribes (a group with
// `replay` gets everything after its committed offsets first: a Kafka consumer group); `pub` {m}
// appends and forwards; `commit` {c, s}; `fetch` {rid, c, after} reads a channel's history;
// `poll` {rid, after} reads the data source's log after an index (direct polling).
import net from 'node:net';
import type { Update } from './common.ts';
import { LOOPBACK, parseJson } from './common.ts';

interface Sub {
  socket: net.Socket;
  channels: Set<number>;
  group: string | null;
}

export class InProcessBroker {
  private server: net.Server | null = null;
  private readonly logs = new Map<number, Update[]>();
  /** Every update in publication order (the direct-polling data source). */
  private readonly all: Update[] = [];
  private readonly subs = new Set<Sub>();
  private readonly sockets = new Set<net.Socket>();
  /** Committed offsets: group → channel → highest committed seq. */
  private readonly committed = new Map<string, Map<number, number>>();
  private down = false;
  port = 0;
  published = 0;
  refused = 0;

  async start(): Promise<number> {
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, LOOPBACK, resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /** broker-down: cut every connection and refuse new ones until `setDown(false)`. */
  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private accept(socket: net.Socket): void {
    if (this.down) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.sockets.add(socket);
    let sub: Sub | null = null;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const msg = parseJson(line);
        if (msg) sub = this.handle(socket, msg, sub);
      }
      // A peer that sends an endless line is cut off (the bridge's own processes never do).
      if (buffered.length > 1 << 20) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (sub) this.subs.delete(sub);
    });
  }

  private send(socket: net.Socket, msg: unknown): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
  }

  private handle(socket: net.Socket, msg: Record<string, unknown>, sub: Sub | null): Sub | null {
    switch (msg.op) {
      case 'sub': {
        const channels = new Set((msg.channels as number[]) ?? []);
        const group = typeof msg.group === 'string' ? msg.group : null;
        const next: Sub = { socket, channels, group };
        this.subs.add(next);
        if (group && msg.replay === true) {
          // A consumer group resumes after its committed offsets (Kafka: replay after a crash).
          const offsets = this.committed.get(group);
          for (const c of channels) {
            const after = offsets?.get(c) ?? -1;
            for (const m of this.logs.get(c) ?? [])
              if (m.s > after) this.send(socket, { op: 'm', m });
          }
        }
        return next;
      }
      case 'pub': {
        const m = msg.m as Update;
        this.published++;
        let log = this.logs.get(m.c);
        if (!log) this.logs.set(m.c, (log = []));
        log.push(m);
        this.all.push(m);
        const line = `${JSON.stringify({ op: 'm', m })}\n`;
        for (const s of this.subs)
          if (s.channels.has(m.c) && !s.socket.destroyed) s.socket.write(line);
        return sub;
      }
      case 'commit': {
        if (!sub?.group) return sub;
        let offsets = this.committed.get(sub.group);
        if (!offsets) this.committed.set(sub.group, (offsets = new Map()));
        offsets.set(Number(msg.c), Number(msg.s));
        return sub;
      }
      case 'fetch': {
        const after = Number(msg.after);
        const ms = (this.logs.get(Number(msg.c)) ?? []).filter((m) => m.s > after);
        this.send(socket, { op: 'fetched', rid: msg.rid, ms });
        return sub;
      }
      case 'poll': {
        const after = Number(msg.after);
        this.send(socket, {
          op: 'polled',
          rid: msg.rid,
          ms: this.all.slice(after),
          next: this.all.length,
        });
        return sub;
      }
      default:
        return sub;
    }
  }
}
