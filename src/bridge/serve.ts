// `hoplab bridge serve`: the control WebSocket the lab's "real servers" panel connects to.
// Loopback only, Host and Origin checked, a random token required, messages capped and validated
// with zod; a bad message gets an `error` naming the field, never a crash. One run at a time.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import { resolveRun } from '../scenario/resolve.ts';
import { hostAllowed, LOOPBACK, originAllowed, parseJson } from './common.ts';
import { makePlan } from './plan.ts';
import {
  BRIDGE_CONTROL_PATH,
  BRIDGE_MAX_MESSAGE_BYTES,
  BRIDGE_PROTOCOL_VERSION,
  clientMessageSchema,
  type BridgeServerMessage,
} from './protocol.ts';
import { runBridge } from './run.ts';

/** Scenario ids the bridge runs for real (others are refused with a reason). */
export const BRIDGE_SCENARIOS = [
  'two-hop',
  'polling',
  'long-polling',
  'sse',
  'websocket',
  'protocols',
  'redis-pubsub',
  'kafka',
  'direct-polling',
  'load-balancing',
  'broker-failure',
  'reconnect-storm',
];

export interface ServeOptions {
  port: number;
  redisUrl?: string;
  /** Fixed token (tests); random otherwise. */
  token?: string;
}

export interface ServeHandle {
  port: number;
  token: string;
  url: string;
  close(): Promise<void>;
  /** Resolves when the server has closed (SIGINT ends the process). */
  closed: Promise<void>;
}

/** How the control socket refuses a connection: the error's field, the close code, the words. */
const REFUSALS = {
  host: {
    field: 'host',
    code: 4403,
    message: 'the Host header must be 127.0.0.1 or localhost with the bridge port',
  },
  origin: {
    field: 'origin',
    code: 4403,
    message: 'the bridge accepts pages from http://localhost or http://127.0.0.1 only',
  },
  token: {
    field: 'token',
    code: 4401,
    message: 'wrong or missing token: use the one the bridge printed when it started',
  },
} as const;

function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function serve(opts: ServeOptions): Promise<ServeHandle> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const broker = opts.redisUrl ? opts.redisUrl.replace(/\/\/[^@]*@/, '//') : 'in-process';
  const server = http.createServer((_req, res) => res.writeHead(426).end('WebSocket only'));
  const wss = new WebSocketServer({ noServer: true, maxPayload: BRIDGE_MAX_MESSAGE_BYTES });
  let port = opts.port;
  let active: AbortController | null = null;

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== BRIDGE_CONTROL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\npath');
      return;
    }
    const refusal = !hostAllowed(req.headers.host, port)
      ? REFUSALS.host
      : !originAllowed(req.headers.origin)
        ? REFUSALS.origin
        : !tokenMatches(url.searchParams.get('token'), token)
          ? REFUSALS.token
          : null;
    if (refusal) return refuseVisibly(req, socket, head, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => onControl(ws));
  });

  /**
   * A browser sees any HTTP refusal of a WebSocket handshake as a bare failure (as if nothing
   * listened), so a refused control connection is upgraded only to say why — one `error` naming
   * the field — and closed with 4401 (token) or 4403 (origin, host). Nothing else is read from it
   * or done for it.
   */
  function refuseVisibly(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    refusal: { field: string; code: number; message: string },
  ): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      send(ws, { type: 'error', field: refusal.field, message: refusal.message });
      ws.close(refusal.code, refusal.field);
      // A peer that never answers the close is cut.
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
  }

  function send(ws: WebSocket, msg: BridgeServerMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }

  function onControl(ws: WebSocket): void {
    ws.on('error', () => {});
    send(ws, {
      type: 'hello',
      version: BRIDGE_PROTOCOL_VERSION,
      scenarios: BRIDGE_SCENARIOS,
      broker,
    });
    let mine: AbortController | null = null;
    ws.on('close', () => mine?.abort());
    ws.on('message', (data) => {
      const raw = parseJson(data.toString());
      if (!raw)
        return send(ws, { type: 'error', field: 'message', message: 'expected a JSON object' });
      const parsed = clientMessageSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue.path.map(String).join('.') || 'type';
        return send(ws, { type: 'error', field, message: issue.message });
      }
      const msg = parsed.data;
      if (msg.type === 'cancel') {
        if (!mine) return send(ws, { type: 'error', field: 'type', message: 'no run to cancel' });
        mine.abort();
        return;
      }
      if (active)
        return send(ws, {
          type: 'error',
          field: 'type',
          message: 'a run is already going; cancel it first',
        });
      const controller = new AbortController();
      active = mine = controller;
      void (async () => {
        try {
          if (!BRIDGE_SCENARIOS.includes(msg.scenario))
            throw new ScenarioError(
              'scenario',
              `the bridge runs ${BRIDGE_SCENARIOS.join(', ')}; not ${JSON.stringify(msg.scenario)}`,
            );
          const sc = getScenario(msg.scenario);
          const overrides: Record<string, unknown> = { ...msg.params };
          if (msg.durationS !== undefined) overrides.duration = msg.durationS;
          const run = resolveRun(sc, overrides, msg.seed, { faults: msg.faults });
          if (run.scenario.durationS > 600)
            throw new ScenarioError('durationS', 'the bridge replays at most 600 s; set durationS');
          const faults =
            run.scenario.model === 'cluster' ? run.scenario.topology.faults : undefined;
          const plan = await makePlan(run, { net: 'emulate' }, (o) =>
            resolveRun(sc, o, run.seed, { faults }),
          );
          if (controller.signal.aborted) return send(ws, { type: 'cancelled' });
          send(ws, {
            type: 'started',
            scenario: sc.id,
            seed: run.seed,
            broker,
            durationS: plan.durationUs / 1e6,
          });
          const details = await runBridge(plan, {
            redisUrl: opts.redisUrl,
            signal: controller.signal,
            onProgress: (m) => send(ws, { type: 'progress', measured: m }),
          });
          // runBridge has stopped every process of the run by the time it returns.
          if (controller.signal.aborted) send(ws, { type: 'cancelled' });
          else send(ws, { type: 'report', report: details.report });
        } catch (e) {
          if (controller.signal.aborted) send(ws, { type: 'cancelled' });
          else if (e instanceof ScenarioError)
            send(ws, { type: 'error', field: e.field, message: e.message });
          else
            send(ws, { type: 'error', field: 'run', message: (e as Error).message.slice(0, 300) });
        } finally {
          if (active === controller) active = null;
          if (mine === controller) mine = null;
        }
      })();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  port = (server.address() as { port: number }).port;
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  server.on('close', () => closedResolve());
  return {
    port,
    token,
    url: `ws://127.0.0.1:${port}${BRIDGE_CONTROL_PATH}?token=${token}`,
    closed,
    async close() {
      active?.abort();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
