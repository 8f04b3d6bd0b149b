// The bridge against real sockets on 127.0.0.1 (ports from the OS): no faults → nothing lost; a
// kill -9 under 1,000 clients with resume; pub/sub without history loses exactly the down window;
// hostile origins and bad tokens are refused; a slow consumer cannot grow a server's memory; the
// control socket streams progress and a report and answers bad messages with a field-named error.
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { redisReachable } from '../../src/bridge/broker-client.ts';
import { resolverFor } from '../../src/bridge/cli.ts';
import { Fleet, killAllChildren, liveChildren } from '../../src/bridge/fleet.ts';
import { makePlan } from '../../src/bridge/plan.ts';
import { runBridge, type BridgeRunDetails } from '../../src/bridge/run.ts';
import { serve } from '../../src/bridge/serve.ts';
import type { ServerConfig } from '../../src/bridge/server-main.ts';
import { SLOW_CONSUMER_BYTES } from '../../src/bridge/common.ts';
import { SseReader } from '../../src/bridge/sse-client.ts';

const REDIS = 'redis://127.0.0.1:6379';
const redisUp = await redisReachable(REDIS);
if (process.env.CI === 'true' && !redisUp)
  throw new Error(`CI=true requires a Redis at ${REDIS} for the bridge's integration tests`);

afterAll(() => killAllChildren());

/** Runs the bridge; returns the details and the command that reruns it. */
async function bridge(
  id: string,
  sets: Record<string, string | number>,
  seed: number,
  faults?: unknown[],
  redisUrl?: string,
): Promise<{ d: BridgeRunDetails; rerun: string }> {
  const run = resolveRun(getScenario(id), sets, seed, faults ? { faults } : {});
  const plan = await makePlan(run, { net: 'emulate' }, resolverFor(run));
  const d = await runBridge(plan, { redisUrl });
  const setText = Object.entries(sets)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  const rerun = `rerun: npm run hoplab -- bridge ${id} --seed ${seed}${setText}${
    faults ? ` --faults '${JSON.stringify(faults)}'` : ''
  }${redisUrl ? ` --broker ${redisUrl}` : ''}`;
  return { d, rerun };
}

const m = (d: BridgeRunDetails) => d.report.measured as Record<string, number>;

describe('bridge: real servers', () => {
  // Without faults the real side owes exactly what the simulator owes (each client from the
  // simulator's first owed seq) and the p50s agree within 25% at a load a busy 2-core CI holds.
  const agreeing: [string, Record<string, number>, number][] = [
    ['two-hop', { users: 300, duration: 5, rate: 3 }, 7],
    ['websocket', { clients: 250, duration: 6 }, 3],
  ];
  for (const [id, sets, seed] of agreeing)
    it(`no faults: delivered and lost equal the simulator's, p50 within 25% (${id})`, async () => {
      const { d, rerun } = await bridge(id, sets, seed);
      const a = d.report.agreement;
      const s = d.report.simulated as Record<string, number>;
      const counts = `measured ${m(d).delivered}/${m(d).lost}, simulated ${s.delivered + s.inFlight}/${s.dropped}`;
      expect(m(d).lost, rerun).toBe(0);
      expect(m(d).delivered, rerun).toBe(m(d).fanout);
      expect(a.deliveredEqual, `${counts}; ${rerun}`).toBe(true);
      expect(a.lostEqual, `${counts}; ${rerun}`).toBe(true);
      expect(m(d).duplicated, rerun).toBe(0);
      expect(m(d).outOfOrder, rerun).toBe(0);
      expect(a.p50Ratio, rerun).toBeGreaterThanOrEqual(0.8);
      expect(a.p50Ratio, rerun).toBeLessThanOrEqual(1.25);
    });

  it('after kill -9 of one server under 1,000 clients, everyone reconnects within 10 s and resume loses nothing', async () => {
    const faults = [{ kind: 'server-crash', atS: 3, target: 1, forS: 3 }];
    const { d, rerun } = await bridge(
      'redis-pubsub',
      { users: 1000, duration: 8, guarantee: 'at-least-once', history: 'broker' },
      11,
      faults,
    );
    const hit = d.applied.find((a) => a.kind === 'server-crash')?.hit ?? 0;
    expect(hit, `the crash hit no connection; ${rerun}`).toBeGreaterThan(100);
    expect(d.windows.length, rerun).toBeGreaterThanOrEqual(hit);
    for (const w of d.windows) {
      expect(w.toUs, `user ${w.u} never reconnected; ${rerun}`).not.toBeNull();
      expect((w.toUs! - w.fromUs) / 1e6, `user ${w.u} took too long; ${rerun}`).toBeLessThanOrEqual(
        10,
      );
    }
    expect(m(d).lost, `lost ${JSON.stringify(d.missing.slice(0, 5))}; ${rerun}`).toBe(0);
    expect(m(d).delivered, rerun).toBe(m(d).fanout);
  });

  it('refuses what it cannot replay with an error naming the parameter (consumers=group, awayShare)', async () => {
    for (const [id, sets, field] of [
      ['kafka', { users: 300, consumers: 'group' }, 'consumers'],
      ['redis-pubsub', { users: 300, awayShare: 0.2 }, 'awayShare'],
    ] as const) {
      const run = resolveRun(getScenario(id), sets, 1);
      await expect(makePlan(run, { net: 'emulate' }, resolverFor(run))).rejects.toMatchObject({
        field,
      });
    }
  });

  const brokers: [string, string | undefined][] = [['in-process', undefined]];
  if (redisUp) brokers.push(['redis', REDIS]);
  for (const [label, url] of brokers)
    it(`pub/sub without history loses exactly what was published while a user was down (${label})`, async () => {
      const faults = [{ kind: 'server-crash', atS: 2, target: 0, forS: 3 }];
      const { d, rerun } = await bridge(
        'redis-pubsub',
        {
          users: 300,
          duration: 6,
          channels: 10,
          rate: 5,
          guarantee: 'at-most-once',
          history: 'none',
        },
        5,
        faults,
        url,
      );
      const lost = m(d).lost;
      expect(lost, `nothing was lost; ${rerun}`).toBeGreaterThan(0);
      expect(d.missing.length, rerun).toBe(lost);
      // Every loss lies inside its user's time without a connection (plus what was in flight
      // towards the dead server: its emulated hop-1 delay, at most ~0.5 s here).
      const byUser = new Map<number, { fromUs: number; toUs: number | null }[]>();
      for (const w of d.windows) byUser.set(w.u, [...(byUser.get(w.u) ?? []), w]);
      for (const x of d.missing) {
        const ws = byUser.get(x.u) ?? [];
        const inside = ws.some(
          (w) => x.publishedUs >= w.fromUs - 500_000 && x.publishedUs <= (w.toUs ?? Infinity),
        );
        expect(inside, `user ${x.u} lost ${x.c}:${x.s} outside a down window; ${rerun}`).toBe(true);
      }
      // Pub/sub counts a refusal or an outage the same way: the report's lost is the gaps.
      expect(m(d).delivered + lost, rerun).toBe(m(d).fanout);
    });
});

function baseConfig(): ServerConfig {
  return {
    index: 0,
    port: 0,
    seed: 1,
    protocol: 'websocket',
    distribution: { kind: 'server' },
    broker: null,
    channels: 4,
    history: 'server',
    assignSeq: true,
    clientDelay: { kind: 'none' },
    brokerDelay: { kind: 'none' },
    holdS: 5,
    missed: 'buffer',
    historyLimit: 100,
  };
}

/** Opens a WebSocket; resolves with the HTTP status of a refusal, or 101. */
function wsStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(-1));
  });
}

/**
 * Connects to the control socket, sends a run request at once, and collects what comes back until
 * the socket closes (or 3 s): the messages and the close code.
 */
function controlAttempt(
  url: string,
  headers: Record<string, string>,
): Promise<{ messages: Record<string, unknown>[]; code: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    const messages: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ messages, code: -1 });
    }, 3_000);
    ws.on('open', () =>
      ws.send(
        JSON.stringify({ type: 'run', scenario: 'two-hop', seed: 1, params: {}, durationS: 2 }),
      ),
    );
    ws.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as Record<string, unknown>;
      messages.push(msg);
      // An accepted connection: the hello is enough (cancel the run it asked for by closing).
      if (msg.type === 'hello') ws.close();
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ messages, code });
    });
  });
}

describe('bridge: a local tool that protects itself', () => {
  it('refuses a hostile Origin and a foreign Host on a server', async () => {
    const fleet = new Fleet();
    try {
      const port = await fleet.start(baseConfig());
      const url = `ws://127.0.0.1:${port}/ws?u=0&ch=0`;
      expect(await wsStatus(url, {})).toBe(101);
      expect(await wsStatus(url, { origin: 'http://localhost:5173' })).toBe(101);
      expect(await wsStatus(url, { origin: 'https://evil.example' })).toBe(403);
      expect(await wsStatus(url, { origin: 'http://localhost.evil.example' })).toBe(403);
      expect(await wsStatus(url, { host: 'evil.example' })).toBe(403);
      const res = await fetch(`http://127.0.0.1:${port}/health`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(res.status).toBe(403);
    } finally {
      await fleet.stop();
    }
  });

  it('cuts a slow consumer: server memory stays bounded', async () => {
    const fleet = new Fleet();
    try {
      const port = await fleet.start(baseConfig());
      // A client that upgrades and then never reads: its socket fills, then ws buffers.
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.write(
        `GET /ws?u=1&ch=0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await new Promise((r) => sock.once('data', r));
      sock.pause();
      const source = new WebSocket(`ws://127.0.0.1:${port}/source`);
      await new Promise((r) => source.once('open', r));
      await new Promise((r) => setTimeout(r, 600));
      const before = fleet.stats[0].rssBytes;
      // 3,000 updates of 32 KiB = 96 MiB owed to the client that does not read.
      for (let i = 0; i < 3000; i++) {
        source.send(JSON.stringify({ c: 0, i, t0: '0', n: 32 * 1024 }));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
      }
      const until = Date.now() + 10_000;
      while (fleet.stats[0].slowDisconnects === 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 600));
      const growthMB = (fleet.stats[0].rssPeakBytes - before) / 1024 / 1024;
      expect(fleet.stats[0].slowDisconnects).toBeGreaterThanOrEqual(1);
      // The bound: 1 MiB of ws backlog plus the kernel's socket buffers and the frames of the
      // last burst; far below the 96 MiB the client was sent.
      expect(growthMB, `RSS grew ${growthMB.toFixed(1)} MB`).toBeLessThan(64);
      expect(SLOW_CONSUMER_BYTES).toBe(1024 * 1024);
      source.terminate();
      sock.destroy();
    } finally {
      await fleet.stop();
    }
  });

  it('control socket: refuses a bad or missing token, a hostile origin and a foreign host in a way a browser can see; nothing runs for them', async () => {
    const handle = await serve({ port: 0 });
    try {
      const base = `ws://127.0.0.1:${handle.port}/control`;
      const refused: [string, Record<string, string>, string, number][] = [
        [`${base}?token=wrong`, {}, 'token', 4401],
        [base, {}, 'token', 4401],
        [`${base}?token=${handle.token}`, { origin: 'https://evil.example' }, 'origin', 4403],
        [`${base}?token=wrong`, { origin: 'http://localhost.evil.example' }, 'origin', 4403],
        [`${base}?token=${handle.token}`, { host: 'evil.example' }, 'host', 4403],
        [`${base}?token=${handle.token}`, { host: '127.0.0.1:1' }, 'host', 4403],
      ];
      for (const [url, headers, field, code] of refused) {
        const r = await controlAttempt(url, headers);
        const what = `${url} ${JSON.stringify(headers)}`;
        // Upgraded only to say why: one error naming the field, then the close code.
        expect(r.messages, what).toEqual([
          { type: 'error', field, message: expect.any(String) as string },
        ]);
        expect(r.code, what).toBe(code);
      }
      // The refused connections each sent a run: none started, no process was spawned.
      expect(liveChildren()).toBe(0);
      const ok = await controlAttempt(`${base}?token=${handle.token}`, {});
      expect(ok.messages[0]?.type).toBe('hello');
    } finally {
      await handle.close();
    }
  });

  it('control socket: bad messages get errors naming the field; a run streams progress and a report', async () => {
    const handle = await serve({ port: 0 });
    try {
      const ws = new WebSocket(handle.url);
      const inbox: Record<string, unknown>[] = [];
      ws.on('message', (d) => inbox.push(JSON.parse(d.toString())));
      await new Promise((r) => ws.once('open', r));
      const next = async (type: string, timeoutMs = 30_000) => {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const i = inbox.findIndex((x) => x.type === type);
          if (i >= 0) return inbox.splice(i, 1)[0];
          if (Date.now() > until) throw new Error(`no ${type} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      expect((await next('hello')).version).toBe(1);
      ws.send('not json');
      expect((await next('error')).field).toBe('message');
      ws.send(JSON.stringify({ type: 'run', scenario: 'two-hop', seed: -1, params: {} }));
      expect((await next('error')).field).toBe('seed');
      ws.send(JSON.stringify({ type: 'launch' }));
      expect((await next('error')).field).toBe('type');
      ws.send(
        JSON.stringify({ type: 'run', scenario: 'two-hop', seed: 3, params: { users: 'x' } }),
      );
      expect((await next('error')).field).toBe('users');
      ws.send(JSON.stringify({ type: 'run', scenario: 'webrtc', seed: 3, params: {} }));
      expect((await next('error')).field).toBe('scenario');
      ws.send(
        JSON.stringify({
          type: 'run',
          scenario: 'two-hop',
          seed: 3,
          params: { users: 100 },
          durationS: 3,
        }),
      );
      expect((await next('started')).scenario).toBe('two-hop');
      const progress = (await next('progress')).measured as Record<string, unknown>;
      expect(progress).toHaveProperty('windowLatencyMs');
      const report = (await next('report', 60_000)).report as Record<string, unknown>;
      expect(report.scenario).toBe('two-hop');
      expect((report.measured as Record<string, number>).lost).toBe(0);
      expect(liveChildren()).toBe(0);
      // A cancelled run ends with `cancelled` (not an error, not a report), its servers stopped.
      ws.send(
        JSON.stringify({
          type: 'run',
          scenario: 'redis-pubsub',
          seed: 3,
          params: { users: 100 },
          durationS: 30,
        }),
      );
      await next('started');
      await next('progress');
      expect(liveChildren()).toBeGreaterThan(0);
      ws.send(JSON.stringify({ type: 'cancel' }));
      await next('cancelled', 10_000);
      expect(liveChildren()).toBe(0);
      expect(inbox.filter((x) => x.type === 'report' || x.type === 'error')).toEqual([]);
      ws.terminate();
    } finally {
      await handle.close();
    }
  });
});

describe("bridge: the load generator's SSE reader", () => {
  it('parses id, event, data, retry and comments, and resumes with Last-Event-ID', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seen.length === 1) {
        // Split mid-line and with CRLF: the reader must join chunks and strip the CR.
        res.write(': comment\nretry: 50\n\nid: 7\nevent: w\ndata: {"a"');
        res.write(':1}\r\n\r\nid: 8\ndata: one\ndata: two\n\n');
        setTimeout(() => res.destroy(), 20);
      } else res.end('data: after\n\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const events: [string, string][] = [];
    let errors = 0;
    const reader = new SseReader(`http://127.0.0.1:${port}/sse`, {
      onEvent: (type, data) => events.push([type, data]),
      onError: () => errors++,
    });
    try {
      const until = Date.now() + 5_000;
      while (!events.some(([, d]) => d === 'after') && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      expect(events.slice(0, 3)).toEqual([
        ['w', '{"a":1}'],
        ['message', 'one\ntwo'],
        ['message', 'after'],
      ]);
      expect(seen.slice(0, 2)).toEqual([undefined, '8']);
      expect(errors).toBeGreaterThanOrEqual(1);
      expect(reader.retryMs).toBe(50);
    } finally {
      reader.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
