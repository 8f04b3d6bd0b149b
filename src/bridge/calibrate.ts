// `hoplab bridge calibrate`: measures this machine's loopback delay and the CPU one WebSocket send
// costs, and prints the `--set` values that make the simulator's costs match what is real here.
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { LOOPBACK, pad } from './common.ts';

export interface Calibration {
  /** Median one-way loopback delay of a WebSocket frame (half a ping round trip), ms. */
  loopbackOneWayMs: number;
  /** CPU per ws.send of a 256-byte frame to one client (framing + write syscall), µs. */
  cpuPerSendUs: number;
  samples: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measure(clients = 200, rounds = 50): Promise<Calibration> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  const port = (server.address() as { port: number }).port;
  const socketsReady = new Promise<WebSocket[]>((resolve) => {
    const list: WebSocket[] = [];
    wss.on('connection', (ws) => {
      list.push(ws);
      ws.on('message', (d) => ws.send(d));
      if (list.length === clients) resolve(list);
    });
  });
  const cs = Array.from(
    { length: clients },
    () => new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false }),
  );
  const served = await socketsReady;
  await Promise.all(
    cs.map((c) => (c.readyState === c.OPEN ? null : new Promise((r) => c.once('open', r)))),
  );
  // Round trips: one echo at a time.
  const rtts: number[] = [];
  const probe = cs[0];
  for (let i = 0; i < 500; i++) {
    const t = process.hrtime.bigint();
    await new Promise<void>((r) => {
      probe.once('message', () => r());
      probe.send('x');
    });
    rtts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  // Per-send CPU: fan one frame out to every client, `rounds` times, waiting for arrival between.
  let received = 0;
  for (const c of cs) c.on('message', () => received++);
  const frame = pad(256);
  const perSend: number[] = [];
  for (let r = 0; r < rounds; r++) {
    received = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const ws of served) ws.send(frame);
    const wall = Number(process.hrtime.bigint() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    void cpu;
    perSend.push(wall / served.length);
    while (received < clients) await new Promise((res) => setImmediate(res));
  }
  for (const c of cs) c.terminate();
  await new Promise<void>((r) => server.close(() => r()));
  wss.close();
  return {
    loopbackOneWayMs: Math.round((median(rtts) / 2) * 1000) / 1000,
    cpuPerSendUs: Math.round(median(perSend) * 10) / 10,
    samples: rtts.length,
  };
}

export async function calibrate(): Promise<string> {
  const c = await measure();
  return [
    `loopback one-way delay (ws echo ÷ 2, median of ${c.samples}): ${c.loopbackOneWayMs} ms`,
    `CPU per WebSocket send (256 B frame, fan-out to 200 clients): ${c.cpuPerSendUs} µs`,
    `two-hop: --set cpuPerSendUs=${Math.max(0, Math.round(c.cpuPerSendUs))}`,
    `with --net loopback the bridge sets hop1LatencyMs to the loopback delay (parameter minimum 0.1 ms)`,
  ].join('\n');
}
