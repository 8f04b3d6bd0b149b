// The "real servers" panel's state against a small fake bridge: connect, run, progress, report, errors, cancel.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  BridgeState,
  MAX_PROGRESS_POINTS,
  readInput,
  type SocketLike,
} from '../../src/app/bridge/bridge.svelte.ts';
import {
  figuresFromMeasured,
  figuresFromRunJson,
  figuresFromSnapshot,
} from '../../src/app/bridge/figures.ts';
import { parseServerMessage } from '../../src/app/bridge/messages.ts';
import { latencyOverlay, OVERLAY_LABEL } from '../../src/app/bridge/overlay.ts';
import { chartGeometry } from '../../src/app/viz/chart.ts';
import { runRequestFor, type BridgeRunRequest } from '../../src/app/bridge/request.ts';
import {
  BRIDGE_PROTOCOL_VERSION,
  clientMessageSchema,
  type BridgeReport,
  type Measured,
} from '../../src/bridge/protocol.ts';
import { getScenario } from '../../src/scenario/registry.ts';

const TOKEN = 'secret-token-123';

function measured(tS: number, delivered: number, p50 = 12, p99 = 40): Measured {
  const latency = { count: delivered, p50, p90: p50 * 2, p99, max: p99 * 1.5 };
  return {
    tS,
    produced: Math.floor(delivered / 10),
    fanout: delivered,
    delivered,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    reach: 1,
    latencyMs: latency,
    windowLatencyMs: latency,
    connections: 100,
    reconnects: 0,
    bytes: delivered * 200,
    serverCpuUtilisation: 0.25,
    serverMemoryMB: 80,
  };
}

const REPORT: BridgeReport = {
  scenario: 'two-hop',
  seed: 7,
  broker: 'in-process',
  simulated: { latencyMs: { count: 3000, p50: 11, p90: 20, p99: 35, max: 60 }, delivered: 3000 },
  measured: { latencyMs: { count: 3000, p50: 12, p90: 24, p99: 40, max: 60 }, delivered: 3000 },
  agreement: { p50Ratio: 12 / 11, deliveredEqual: true, lostEqual: true },
};

/**
 * A fake control server on 127.0.0.1 (port 0): says hello, and answers a run with `started`, the
 * scripted progress and a report, or with whatever `onRun` sends instead.
 */
async function fakeBridge(options: { onRun?: (send: (m: unknown) => void) => void } = {}) {
  const received: unknown[] = [];
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: { url?: string } }) =>
      new URL(info.req.url ?? '/', 'http://x').searchParams.get('token') === TOKEN,
  });
  await once(server, 'listening');
  server.on('connection', (socket) => {
    const send = (m: unknown) => socket.send(typeof m === 'string' ? m : JSON.stringify(m));
    send({
      type: 'hello',
      version: BRIDGE_PROTOCOL_VERSION,
      scenarios: ['two-hop', 'sse'],
      broker: 'in-process',
    });
    socket.on('message', (data) => {
      const message = clientMessageSchema.parse(JSON.parse(String(data)));
      received.push(message);
      if (message.type !== 'run') return;
      if (options.onRun) return options.onRun(send);
      send({
        type: 'started',
        scenario: message.scenario,
        seed: message.seed,
        broker: 'in-process',
        durationS: 3,
      });
      for (let t = 1; t <= 3; t++) send({ type: 'progress', measured: measured(t, t * 1000) });
      send({ type: 'report', report: REPORT });
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    received,
    close: () => {
      for (const client of server.clients) client.terminate();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function newState(): BridgeState {
  const store = new Map<string, string>();
  return new BridgeState({
    socket: (url) => new WebSocket(url) as unknown as SocketLike,
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    },
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const request: BridgeRunRequest = {
  type: 'run',
  scenario: 'two-hop',
  seed: 7,
  params: { users: 500 },
};
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('bridge panel state', () => {
  it('connects, runs, accumulates progress and shows the report', async () => {
    const fake = await fakeBridge();
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    expect(bridge.phase).toBe('connecting');
    await until(() => bridge.phase === 'connected', 'connected');
    expect(bridge.hello?.scenarios).toEqual(['two-hop', 'sse']);
    expect(bridge.supports('two-hop')).toBe(true);

    expect(bridge.run(request)).toBe(true);
    expect(bridge.phase).toBe('running');
    await until(() => bridge.phase === 'done', 'the report');
    expect(fake.received).toEqual([request]);
    expect(bridge.started).toMatchObject({ scenario: 'two-hop', seed: 7, durationS: 3 });
    expect(bridge.history.map((m) => m.tS)).toEqual([1, 2, 3]);
    expect(bridge.latest?.delivered).toBe(3000);
    expect(bridge.report).toEqual(REPORT);
    expect(bridge.problem).toBeNull();
  });

  it('keeps the token in its storage, never anywhere else, and reads a pasted control URL', async () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    const urls: string[] = [];
    const bridge = new BridgeState({
      storage,
      socket: (url) => {
        urls.push(url);
        return new WebSocket(url) as unknown as SocketLike;
      },
      probe: async () => false,
    });
    cleanups.push(() => bridge.dispose());
    bridge.connect('1', 'ws://127.0.0.1:9/control?token=abc');
    expect(bridge.port).toBe(9);
    expect(bridge.token).toBe('abc');
    expect(urls).toEqual(['ws://127.0.0.1:9/control?token=abc']);
    expect(new BridgeState({ storage }).token).toBe('abc');
    expect(new BridgeState({ storage }).port).toBe(9);
    expect(readInput('70000', 'x')).toMatchObject({ ok: false, field: 'port' });
    expect(readInput('7357', '  ')).toMatchObject({ ok: false, field: 'token' });
  });

  it('tells the reader the exact command when nothing listens on the port', async () => {
    const fake = await fakeBridge();
    const port = fake.port;
    await fake.close();
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(port, TOKEN);
    await until(() => bridge.phase === 'error', 'the error');
    expect(bridge.problem).toMatchObject({
      kind: 'not-running',
      command: `npm run hoplab -- bridge serve --port ${port}`,
    });
  });

  it('says the token is wrong when the bridge refuses the handshake', async () => {
    const fake = await fakeBridge();
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, 'wrong');
    await until(() => bridge.phase === 'error', 'the error');
    expect(bridge.problem).toMatchObject({ kind: 'token', field: 'token' });
    expect(bridge.connected).toBe(false);
  });

  it('shows a token refusal the bridge sends as a message and a close code', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'error', field: 'token', message: 'unknown token' }));
      socket.close(4401, 'unknown token');
    });
    cleanups.push(() => new Promise((r) => server.close(r)));
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect((server.address() as AddressInfo).port, 'wrong');
    await until(() => bridge.phase === 'error', 'the error');
    expect(bridge.problem).toMatchObject({ kind: 'token', message: 'unknown token' });
  });

  it('surfaces an error the bridge reports during a run', async () => {
    const fake = await fakeBridge({
      onRun: (send) =>
        send({ type: 'error', field: 'params.users', message: 'too many users for this machine' }),
    });
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    bridge.run(request);
    await until(() => bridge.phase === 'error', 'the error');
    expect(bridge.problem).toMatchObject({
      kind: 'bridge',
      field: 'params.users',
      message: 'params.users: too many users for this machine',
    });
    // The connection is still good: the reader can fix the value and run again.
    expect(bridge.connected).toBe(true);
  });

  it('refuses a scenario the bridge did not list, without sending it', async () => {
    const fake = await fakeBridge();
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    expect(bridge.run({ ...request, scenario: 'load-balancing' })).toBe(false);
    expect(bridge.problem).toMatchObject({ kind: 'scenario' });
    expect(bridge.problem?.message).toContain('two-hop, sse');
    expect(fake.received).toEqual([]);
    expect(bridge.phase).toBe('connected');
  });

  it('reports a malformed or unknown message and goes on with the run', async () => {
    const fake = await fakeBridge({
      onRun: (send) => {
        send({ type: 'started', scenario: 'two-hop', seed: 7, broker: 'in-process', durationS: 3 });
        send({ type: 'progress', measured: measured(1, 100) });
        send('{not json');
        send({ type: 'progress', measured: { ...measured(2, 200), delivered: -1 } });
        send({ type: 'surprise' });
        send({ type: 'progress', measured: measured(3, 300) });
      },
    });
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    bridge.run(request);
    await until(() => bridge.latest?.tS === 3, 'the last progress');
    expect(bridge.history.map((m) => m.tS)).toEqual([1, 3]);
    expect(bridge.phase).toBe('running');
    expect(bridge.problem).toMatchObject({ kind: 'protocol' });
    expect(bridge.problem?.message).toContain('unknown type "surprise"');
  });

  it('sends cancel and stops taking in the cancelled run', async () => {
    let sendLater: ((m: unknown) => void) | null = null;
    const fake = await fakeBridge({
      onRun: (send) => {
        send({ type: 'progress', measured: measured(1, 100) });
        sendLater = send;
      },
    });
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    bridge.run(request);
    await until(() => bridge.history.length === 1, 'the first progress');
    bridge.cancel();
    await until(() => fake.received.length === 2, 'the cancel');
    expect(fake.received[1]).toEqual({ type: 'cancel' });
    expect(bridge.phase).toBe('connected');
    expect(bridge.notice).toContain('cancelled at 1.0 s');
    sendLater!({ type: 'progress', measured: measured(2, 200) });
    sendLater!({ type: 'report', report: REPORT });
    // The bridge ends an aborted run with an error on `run`: expected after a cancel, not shown.
    sendLater!({ type: 'error', field: 'run', message: 'This operation was aborted' });
    await new Promise((r) => setTimeout(r, 100));
    expect(bridge.history).toHaveLength(1);
    expect(bridge.report).toBeNull();
    expect(bridge.problem).toBeNull();
    expect(bridge.phase).toBe('connected');
  });

  it('takes the bridge\'s "cancelled" as the end of the run', async () => {
    let sendLater: ((m: unknown) => void) | null = null;
    const fake = await fakeBridge({
      onRun: (send) => {
        send({ type: 'progress', measured: measured(1, 100) });
        sendLater = send;
      },
    });
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    expect(parseServerMessage('{"type":"cancelled"}')).toEqual({
      ok: true,
      message: { type: 'cancelled' },
    });
    bridge.run(request);
    await until(() => bridge.history.length === 1, 'the first progress');
    // Ended by the bridge (another tab's cancel, a bridge shutting down): back to connected.
    sendLater!({ type: 'cancelled' });
    await until(() => bridge.phase === 'connected', 'connected again');
    expect(bridge.problem).toBeNull();
    expect(bridge.history).toHaveLength(1);
    // After the reader's own cancel, the confirmation changes nothing and shows no problem.
    bridge.run(request);
    await until(() => bridge.running, 'running again');
    bridge.cancel();
    sendLater!({ type: 'cancelled' });
    await new Promise((r) => setTimeout(r, 100));
    expect(bridge.phase).toBe('connected');
    expect(bridge.problem).toBeNull();
    expect(bridge.notice).toContain('cancelled');
  });

  it('keeps the progress history bounded, first and latest points included', async () => {
    const fake = await fakeBridge({
      onRun: (send) => {
        for (let t = 0; t < 1500; t++) send({ type: 'progress', measured: measured(t / 10, t) });
      },
    });
    cleanups.push(fake.close);
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    bridge.run(request);
    await until(() => bridge.latest?.delivered === 1499, 'the last progress');
    expect(bridge.history.length).toBeLessThanOrEqual(MAX_PROGRESS_POINTS);
    expect(bridge.history[0].tS).toBe(0);
  });

  it('reconnects only when asked: a closed connection stays closed', async () => {
    const fake = await fakeBridge();
    const bridge = newState();
    cleanups.push(() => bridge.dispose());
    bridge.connect(fake.port, TOKEN);
    await until(() => bridge.connected, 'connected');
    await fake.close();
    await until(() => bridge.phase === 'error', 'the close');
    expect(bridge.problem).toMatchObject({ kind: 'closed' });
    await new Promise((r) => setTimeout(r, 200));
    expect(bridge.phase).toBe('error');
  });
});

describe('bridge messages and figures', () => {
  it('parses every message type and refuses what does not fit, without throwing', () => {
    expect(
      parseServerMessage(JSON.stringify({ type: 'progress', measured: measured(1, 5) })),
    ).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ type: 'report', report: REPORT }))).toMatchObject({
      ok: true,
    });
    for (const bad of [new Uint8Array(2), 'null', '[]', '{"type":"hello"}', 'x'.repeat(70_000)])
      expect(parseServerMessage(bad)).toMatchObject({ ok: false });
  });

  it('builds the run request from the lab run, faults included for cluster runs', () => {
    const twoHop = getScenario('two-hop');
    const built = runRequestFor({ scenario: twoHop, params: { users: 500 }, seed: 3 });
    expect(built).toEqual({
      ok: true,
      request: { type: 'run', scenario: 'two-hop', seed: 3, params: { users: 500 } },
    });
    const cluster = getScenario('load-balancing');
    const withFaults = runRequestFor({ scenario: cluster, params: {}, seed: 1 });
    expect(withFaults.ok && withFaults.request.faults).toEqual(
      cluster.model === 'cluster' ? cluster.topology.faults : undefined,
    );
  });

  it('reads the same figures from a measurement, a run JSON and a snapshot-shaped run', () => {
    const m = measured(3, 3000);
    const fromProgress = figuresFromMeasured(m);
    expect(figuresFromRunJson(m as unknown as Record<string, unknown>)).toEqual(fromProgress);
    const json = figuresFromRunJson({
      latencyMs: { count: 2, p50: 1, p90: 2, p99: 3, max: 4 },
      delivered: 8,
      fanout: 10,
      dropped: 2,
      servers: [
        { connections: 3, cpuUtilisation: 0.2, memoryMB: 10 },
        { connections: 5, cpuUtilisation: 0.4, memoryMB: 30 },
      ],
    });
    expect(json).toMatchObject({
      lost: 2,
      reach: 0.8,
      connections: 8,
      serverMemoryMB: 40,
      reconnects: null,
    });
    expect(json.serverCpuUtilisation).toBeCloseTo(0.3);
    expect(typeof figuresFromSnapshot).toBe('function');
  });

  it('turns the progress windows into dashed-line data the chart scales to', () => {
    const history = [
      measured(1, 10, 20, 50),
      { ...measured(2, 20), windowLatencyMs: null },
      measured(40, 30, 25, 400),
    ];
    const overlay = latencyOverlay(history)!;
    expect(overlay.label).toBe(OVERLAY_LABEL);
    expect(overlay.lines.map((l) => l.key)).toEqual(['measured-p99', 'measured-p50']);
    expect(overlay.lines[1].values).toEqual([20, NaN, 25]);
    expect(latencyOverlay([])).toBeNull();

    const options = { width: 400, height: 200, durationS: 30, formatY: String };
    const plain = chartGeometry([1, 2], [{ key: 'p50', values: [10, 12] }], options);
    const withOverlay = chartGeometry([1, 2], [{ key: 'p50', values: [10, 12] }], {
      ...options,
      overlay: overlay.lines,
    });
    expect(plain.overlayPaths).toEqual([]);
    expect(withOverlay.paths[0].d).not.toBe(plain.paths[0].d);
    expect(withOverlay.overlayPaths).toHaveLength(2);
    // The gap (a window without deliveries) splits the line; the axes reach 40 s and 400 ms.
    expect(withOverlay.overlayPaths[1].d.match(/M/g)).toHaveLength(2);
    expect(withOverlay.xTicks.at(-1)!.label).toBe('40 s');
    expect(Number(withOverlay.yTicks.at(-1)!.label)).toBeGreaterThanOrEqual(400);
  });
});
