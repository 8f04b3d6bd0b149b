// `hoplab bridge serve`: the control WebSocket the lab's "real servers" panel connects to.
// Loopback only, Host and Origin checked, a random token required, messages capped and validated
// with zod; a bad message gets an `error` naming the field, never a crash. One run at a time.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
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
    const refuse = (code: number, why: string) =>
      socket.end(
        `HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : 'Forbidden'}\r\nConnection: close\r\n\r\n${why}`,
      );
    if (!hostAllowed(req.headers.host, port)) return refuse(403, 'host');
    if (!originAllowed(req.headers.origin)) return refuse(403, 'origin');
    if (url.pathname !== BRIDGE_CONTROL_PATH) return refuse(403, 'path');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(401, 'token');
    wss.handleUpgrade(req, socket, head, (ws) => onControl(ws));
  });

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
          send(ws, { type: 'report', report: details.report });
        } catch (e) {
          if (e instanceof ScenarioError)
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
