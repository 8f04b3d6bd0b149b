// The "run against real servers" panel's page object, and a fake bridge on 127.0.0.1 that replays a scripted run.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, type Locator, type Page } from '@playwright/test';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  BRIDGE_CONTROL_PATH,
  BRIDGE_PROTOCOL_VERSION,
  clientMessageSchema,
  type BridgeClientMessage,
  type BridgeReport,
  type Measured,
} from '../../src/bridge/protocol.ts';

/** What a spec needs of a bridge: where it listens and its token. The real bridge fits too. */
export interface BridgeEndpoint {
  port: number;
  token: string;
  close(): Promise<void>;
}

export interface FakeBridge extends BridgeEndpoint {
  /** Every message the lab sent, parsed with the protocol's own schema. */
  received: BridgeClientMessage[];
  /** The progress messages the fake sends for a run, in order. */
  progress: Measured[];
  report: BridgeReport;
  /** Lets a held run send its report (see `holdReport`). */
  release(): void;
}

/**
 * A real bridge the reader started (`npm run hoplab -- bridge serve`), named by the control URL it
 * prints in HOPLAB_BRIDGE_URL (ws://127.0.0.1:7357/control?token=…); null when not set.
 */
export function realBridgeFromEnv(): BridgeEndpoint | null {
  const text = process.env.HOPLAB_BRIDGE_URL;
  if (!text) return null;
  const url = new URL(text);
  return {
    port: Number(url.port),
    token: url.searchParams.get('token') ?? '',
    close: async () => {},
  };
}

/** One scripted progress point: cumulative counts, and a window latency that wanders. */
export function scriptedMeasured(tS: number): Measured {
  const delivered = Math.round(5150 * tS);
  const windowP50 = 36 + 4 * Math.sin(tS / 2);
  const windowP99 = 98 + 12 * Math.sin(tS / 3 + 1);
  return {
    tS,
    produced: Math.round(5.2 * tS),
    fanout: delivered + 7,
    delivered,
    lost: 0,
    duplicated: 0,
    outOfOrder: tS >= 10 ? 3 : 0,
    reach: delivered / (delivered + 7),
    latencyMs: { count: delivered, p50: 35.5, p90: 61.25, p99: 101.5, max: 230 + tS },
    windowLatencyMs: { count: 5150, p50: windowP50, p90: 60, p99: windowP99, max: 180 },
    connections: 1000,
    reconnects: 0,
    bytes: delivered * 240,
    serverCpuUtilisation: 0.042,
    serverMemoryMB: 61.5,
  };
}

/**
 * A fake control server: checks the token and Origin as the bridge does, says hello, and answers a
 * run with `started`, one progress message every `intervalMs` and a report.
 */
export async function startFakeBridge(
  options: {
    token?: string;
    scenarios?: string[];
    points?: number;
    intervalMs?: number;
    /** Wait for release() before the report (for a mid-run look). */
    holdReport?: boolean;
  } = {},
): Promise<FakeBridge> {
  const token = options.token ?? 'fake-token-4f9a';
  const points = options.points ?? 12;
  const intervalMs = options.intervalMs ?? 80;
  const progress = Array.from({ length: points }, (_, i) => scriptedMeasured((i + 1) * 2.5));
  const last = progress[progress.length - 1];
  const report: BridgeReport = {
    scenario: 'two-hop',
    seed: 7,
    broker: 'in-process',
    simulated: {
      latencyMs: { count: 155090, p50: 34.143, p90: 59.519, p99: 95.167, max: 212.92 },
      delivered: last.delivered,
      fanout: last.fanout,
      dropped: 0,
      duplicated: 0,
      outOfOrder: 0,
      servers: [
        { connections: 334, cpuUtilisation: 0.03, memoryMB: 16.5 },
        { connections: 333, cpuUtilisation: 0.03, memoryMB: 16.25 },
        { connections: 333, cpuUtilisation: 0.03, memoryMB: 16.25 },
      ],
    },
    measured: { ...last },
    agreement: { p50Ratio: 35.5 / 34.143, deliveredEqual: true, lostEqual: true },
  };
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const received: BridgeClientMessage[] = [];
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: BRIDGE_CONTROL_PATH,
    verifyClient: ({ req }: { req: IncomingMessage }) => {
      const origin = req.headers.origin;
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      return (
        url.searchParams.get('token') === token &&
        (origin === undefined || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(origin))
      );
    },
  });
  await once(server, 'listening');
  server.on('connection', (socket: WebSocket) => {
    const send = (message: unknown) => socket.send(JSON.stringify(message));
    let timer: ReturnType<typeof setTimeout> | undefined;
    send({
      type: 'hello',
      version: BRIDGE_PROTOCOL_VERSION,
      scenarios: options.scenarios ?? ['two-hop', 'sse', 'websocket'],
      broker: 'in-process',
    });
    socket.on('close', () => clearTimeout(timer));
    socket.on('message', (data) => {
      const message = clientMessageSchema.parse(JSON.parse(String(data)));
      received.push(message);
      if (message.type === 'cancel') return clearTimeout(timer);
      send({
        type: 'started',
        scenario: message.scenario,
        seed: message.seed,
        broker: 'in-process',
        durationS: points * 2.5,
      });
      const step = (i: number) => {
        if (i < progress.length) {
          send({ type: 'progress', measured: progress[i] });
          timer = setTimeout(() => step(i + 1), intervalMs);
          return;
        }
        const finish = () => send({ type: 'report', report });
        if (options.holdReport) void released.then(finish);
        else finish();
      };
      step(0);
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    token,
    received,
    progress,
    report,
    release: () => release(),
    close: () => {
      for (const client of server.clients) client.terminate();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export class BridgePage {
  readonly panel: Locator;
  readonly summary: Locator;
  readonly port: Locator;
  readonly token: Locator;
  readonly connectButton: Locator;
  readonly runButton: Locator;
  readonly cancelButton: Locator;
  readonly status: Locator;
  readonly chip: Locator;
  readonly error: Locator;
  readonly table: Locator;
  readonly agreement: Locator;
  readonly overlayLegend: Locator;
  readonly overlayLines: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('bridge-panel');
    this.summary = this.panel.locator('summary');
    this.port = page.getByTestId('bridge-port');
    this.token = page.getByTestId('bridge-token');
    this.connectButton = page.getByTestId('bridge-connect');
    this.runButton = page.getByTestId('bridge-run');
    this.cancelButton = page.getByTestId('bridge-cancel');
    this.status = page.getByTestId('bridge-status');
    this.chip = page.getByTestId('bridge-chip');
    this.error = page.getByTestId('bridge-error');
    this.table = page.getByTestId('bridge-table');
    this.agreement = page.getByTestId('bridge-agreement');
    const latency = page.getByTestId('chart-latency');
    this.overlayLegend = latency.getByTestId('chart-overlay-legend');
    this.overlayLines = latency.getByTestId('chart-overlay-line');
  }

  /** Opens the panel (collapsed by default). */
  async expand(): Promise<void> {
    if ((await this.panel.getAttribute('open')) === null) await this.summary.click();
    await expect(this.port).toBeVisible();
  }

  async connect(bridge: Pick<BridgeEndpoint, 'port' | 'token'>): Promise<void> {
    await this.expand();
    await this.port.fill(String(bridge.port));
    await this.token.fill(bridge.token);
    await this.connectButton.click();
  }

  measured(key: string): Locator {
    return this.page.getByTestId(`measured-${key}`);
  }

  simulated(key: string): Locator {
    return this.page.getByTestId(`simulated-${key}`);
  }

  /** The raw number behind a cell (its text is formatted). */
  async value(cell: Locator): Promise<number> {
    return Number(await cell.getAttribute('data-value'));
  }
}
