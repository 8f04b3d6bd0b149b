// The "run against real servers" state: the control connection to a local bridge, the run it replays, what it measures.
import {
  BRIDGE_CONTROL_PATH,
  BRIDGE_DEFAULT_PORT,
  BRIDGE_PROTOCOL_VERSION,
  type BridgeReport,
  type BridgeServerMessage,
  type Measured,
} from '../../bridge/protocol.ts';
import { parseServerMessage, type HelloMessage, type StartedMessage } from './messages.ts';
import type { BridgeRunRequest } from './request.ts';

export type BridgePhase =
  'disconnected' | 'connecting' | 'connected' | 'running' | 'done' | 'error';

/** Why the panel cannot go on, with what the reader can do about it. */
export interface BridgeProblem {
  kind: 'input' | 'not-running' | 'token' | 'scenario' | 'protocol' | 'bridge' | 'closed';
  title: string;
  message: string;
  /** The input or protocol field at fault, when there is one. */
  field?: string;
  /** A command to run in a terminal (shown as code, with a copy button). */
  command?: string;
}

/** The command that starts the bridge (the panel shows it whenever the bridge cannot be reached). */
export const BRIDGE_COMMAND = 'npm run hoplab -- bridge serve';
/** Progress points kept for the chart: older ones are thinned, so a long run stays light. */
export const MAX_PROGRESS_POINTS = 600;
/** How long an open connection may stay silent before the bridge's hello. */
const HELLO_TIMEOUT_MS = 10_000;
/** Close codes a bridge uses to refuse a connection: policy violation and HTTP-like 401/403. */
const REFUSED_CLOSE_CODES = new Set([1008, 4401, 4403]);
const TOKEN_KEY = 'hoplab:bridge-token';
const PORT_KEY = 'hoplab:bridge-port';

/** The part of the WebSocket API used here: the browser's, or `ws`'s in Node tests. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;
type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface BridgeOptions {
  /** Opens the control socket (default: the browser's WebSocket). */
  socket?: SocketFactory;
  /** Where the token and port are kept for this tab (default: sessionStorage, never the URL). */
  storage?: StorageLike | null;
  /**
   * Resolves true when something listens on the port. Browsers report a refused handshake and a
   * closed port alike (close code 1006), so after a failed connect this tells them apart.
   */
  probe?: (port: number) => Promise<boolean>;
  host?: string;
}

const OPEN = 1;

export class BridgeState {
  port = $state(BRIDGE_DEFAULT_PORT);
  token = $state('');
  phase = $state<BridgePhase>('disconnected');
  /** What the connected bridge said about itself (scenarios it can run, its broker). */
  hello = $state.raw<HelloMessage | null>(null);
  /** The run the bridge is replaying (or last replayed). */
  started = $state.raw<StartedMessage | null>(null);
  /** The request last sent, to tell when the lab's settings have moved on. */
  sent = $state.raw<BridgeRunRequest | null>(null);
  /** Cumulative measurements, oldest first, at most MAX_PROGRESS_POINTS. */
  history = $state.raw<Measured[]>([]);
  report = $state.raw<BridgeReport | null>(null);
  problem = $state.raw<BridgeProblem | null>(null);
  /** A calm note on the last thing the reader did (a cancelled run). */
  notice = $state<string | null>(null);

  private socket: SocketLike | null = null;
  /** A cancel was sent: the bridge's "aborted" error for that run is expected, not news. */
  private cancelled = false;
  private connection = 0;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly host: string;
  private readonly makeSocket: SocketFactory;
  private readonly storage: StorageLike | null;
  private readonly probe: (port: number) => Promise<boolean>;

  constructor(options: BridgeOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.makeSocket = options.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.storage = options.storage === undefined ? sessionStore() : options.storage;
    this.probe = options.probe ?? ((port) => listening(this.host, port));
    this.token = this.read(TOKEN_KEY) ?? '';
    const port = Number(this.read(PORT_KEY));
    if (Number.isInteger(port) && port > 0 && port < 65_536) this.port = port;
  }

  /** The latest cumulative measurement, or null before the first. */
  get latest(): Measured | null {
    return this.history.length ? this.history[this.history.length - 1] : null;
  }

  /** The control socket is open and the bridge has said hello. */
  get connected(): boolean {
    return this.hello !== null && this.phase !== 'connecting';
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Whether the connected bridge can run a scenario (null while not connected). */
  supports(scenario: string): boolean | null {
    return this.hello ? this.hello.scenarios.includes(scenario) : null;
  }

  /**
   * Connects with a port and token (either may be a pasted control URL, which carries both).
   * Only the reader's action connects: a dropped connection is not retried behind their back.
   */
  connect(port: number | string = this.port, token: string = this.token): void {
    const input = readInput(port, token);
    if (!input.ok) {
      this.problem = { kind: 'input', title: 'Check the connection details', ...input };
      return;
    }
    this.closeSocket();
    this.port = input.port;
    this.token = input.token;
    this.write(TOKEN_KEY, input.token);
    this.write(PORT_KEY, String(input.port));
    this.problem = null;
    this.notice = null;
    this.hello = null;
    this.phase = 'connecting';
    const id = ++this.connection;
    const url = `ws://${this.host}:${input.port}${BRIDGE_CONTROL_PATH}?token=${encodeURIComponent(input.token)}`;
    let socket: SocketLike;
    try {
      socket = this.makeSocket(url);
    } catch (error) {
      this.fail({
        kind: 'not-running',
        title: 'The lab could not open a connection to the bridge',
        message: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (id !== this.connection) return;
      opened = true;
      clearTimeout(this.helloTimer);
      this.helloTimer = setTimeout(() => this.helloMissing(id), HELLO_TIMEOUT_MS);
    };
    socket.onmessage = (event) => {
      if (id === this.connection) this.onMessage(event.data);
    };
    // The close event that follows carries what there is to know.
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (id === this.connection) void this.onClose(event.code, event.reason, opened);
    };
  }

  /** Closes the connection; the figures of the last run stay on screen. */
  disconnect(): void {
    this.connection++;
    this.closeSocket();
    this.hello = null;
    this.phase = 'disconnected';
    this.notice = null;
  }

  dispose(): void {
    this.disconnect();
  }

  /** Sends a run; the scenario must be one the bridge said it can run. */
  run(request: BridgeRunRequest): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || !this.hello || this.running)
      return false;
    if (!this.hello.scenarios.includes(request.scenario)) {
      this.problem = cannotRun(request.scenario, this.hello.scenarios);
      return false;
    }
    this.problem = null;
    this.notice = null;
    this.started = null;
    this.history = [];
    this.report = null;
    this.sent = request;
    this.cancelled = false;
    if (!this.send(request)) return false;
    this.phase = 'running';
    return true;
  }

  /** Asks the bridge to stop the run; later progress of that run is not taken in. */
  cancel(): void {
    if (!this.running) return;
    this.send({ type: 'cancel' });
    this.cancelled = true;
    const at = this.latest?.tS;
    this.notice = `Run cancelled${at === undefined ? '' : ` at ${at.toFixed(1)} s`}. The figures measured so far stay below.`;
    this.phase = 'connected';
  }

  dismissProblem(): void {
    this.problem = null;
    if (this.phase === 'error') this.phase = this.socket ? 'connected' : 'disconnected';
  }

  // ——— internals ———

  private onMessage(data: unknown): void {
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.problem = {
        kind: 'protocol',
        title: 'The bridge sent a message the lab cannot read',
        message: `It was ${parsed.why}. Are the bridge and the lab from the same version of Hoplab?`,
      };
      // Before the hello there is nothing to go on; during a run, later messages may still be good.
      if (this.phase === 'connecting') this.fail(this.problem);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: BridgeServerMessage): void {
    switch (message.type) {
      case 'hello':
        clearTimeout(this.helloTimer);
        if (message.version !== BRIDGE_PROTOCOL_VERSION) {
          this.fail({
            kind: 'protocol',
            title: 'The bridge speaks another protocol version',
            message: `The bridge speaks version ${message.version}, this lab version ${BRIDGE_PROTOCOL_VERSION}. Run the bridge from the same checkout as the lab.`,
          });
          return;
        }
        this.hello = message;
        if (this.phase === 'connecting') this.phase = 'connected';
        return;
      case 'started':
        if (this.running) this.started = message;
        return;
      case 'progress':
        if (this.running) this.addProgress(message.measured);
        return;
      case 'report':
        if (!this.running) return;
        this.report = message.report;
        this.phase = 'done';
        return;
      case 'error':
        this.onBridgeError(message.field, message.message);
        return;
      case 'cancelled':
        // The bridge confirms the cancel: the run is over (and its processes stopped).
        this.cancelled = false;
        if (this.running) this.phase = 'connected';
        return;
    }
  }

  private addProgress(measured: Measured): void {
    const last = this.latest;
    // A point from before the last one would fold the chart's line back on itself.
    if (last && measured.tS < last.tS) return;
    let next = [...this.history, measured];
    if (next.length > MAX_PROGRESS_POINTS)
      next = next.filter((_, i) => i % 2 === 0 || i === next.length - 1);
    this.history = next;
  }

  private onBridgeError(field: string, message: string): void {
    // The bridge ends a cancelled run with an error about the abort; the notice already says it.
    if (this.cancelled && field === 'run') {
      this.cancelled = false;
      return;
    }
    const problem: BridgeProblem =
      field === 'token' || field === 'origin' || field === 'host'
        ? { kind: 'token', title: 'The bridge refused this connection', message, field }
        : field === 'scenario'
          ? {
              kind: 'scenario',
              title: 'The bridge cannot run this scenario',
              message: this.hello
                ? `${message} It runs: ${this.hello.scenarios.join(', ') || 'none'}.`
                : message,
              field,
            }
          : {
              kind: 'bridge',
              title: this.running ? 'The real run failed' : 'The bridge reported a problem',
              message: field ? `${field}: ${message}` : message,
              field,
            };
    this.problem = problem;
    if (this.running || this.phase === 'connecting' || problem.kind === 'token')
      this.phase = 'error';
  }

  private async onClose(code: number, reason: string, opened: boolean): Promise<void> {
    clearTimeout(this.helloTimer);
    this.socket = null;
    const id = this.connection;
    const wasRunning = this.running;
    this.hello = null;
    // A refusal or failure the bridge explained before closing stays as it said it.
    if (this.phase === 'error' && this.problem) return;
    const port = this.port;
    const command =
      port === BRIDGE_DEFAULT_PORT ? BRIDGE_COMMAND : `${BRIDGE_COMMAND} --port ${port}`;
    if (REFUSED_CLOSE_CODES.has(code)) {
      this.fail({
        kind: 'token',
        title: 'The bridge refused the token',
        message: `${reason ? `It said: “${reason}”. ` : ''}Paste the token the bridge printed when it started; it changes every time the bridge starts.`,
        field: 'token',
      });
      return;
    }
    if (!opened) {
      this.phase = 'connecting';
      const listens = await this.probe(port).catch(() => false);
      if (id !== this.connection) return;
      this.fail(
        listens
          ? {
              kind: 'token',
              title: `Something on port ${port} refused the connection`,
              message:
                'If the bridge is running there, the token is wrong: paste the one it printed when it started (it changes every time). The bridge also refuses pages not served from http://localhost or http://127.0.0.1.',
              field: 'token',
            }
          : {
              kind: 'not-running',
              title: `The bridge is not running on port ${port}`,
              message: 'Start it in a terminal, then paste the token it prints:',
              command,
            },
      );
      return;
    }
    if (this.phase === 'disconnected') return;
    this.fail({
      kind: 'closed',
      title: wasRunning
        ? 'The bridge closed the connection mid-run'
        : 'The bridge closed the connection',
      message: `Code ${code}${reason ? `, “${reason}”` : ''}. ${wasRunning ? 'The figures measured so far stay below. ' : ''}Connect again when the bridge is back; if it stopped, restart it:`,
      command,
    });
  }

  private helloMissing(id: number): void {
    if (id !== this.connection || this.phase !== 'connecting') return;
    this.connection++;
    this.closeSocket();
    this.fail({
      kind: 'protocol',
      title: 'No answer from the bridge',
      message: `Something on port ${this.port} accepted the connection but did not greet the lab as a Hoplab bridge does. Check the port.`,
    });
  }

  private fail(problem: BridgeProblem): void {
    this.problem = problem;
    this.phase = 'error';
    if (this.socket && problem.kind !== 'scenario') {
      this.connection++;
      this.closeSocket();
      this.hello = null;
    }
  }

  private send(message: BridgeRunRequest | { type: 'cancel' }): boolean {
    try {
      this.socket?.send(JSON.stringify(message));
      return true;
    } catch (error) {
      this.problem = {
        kind: 'closed',
        title: 'The message could not be sent',
        message: error instanceof Error ? error.message : String(error),
      };
      return false;
    }
  }

  private closeSocket(): void {
    clearTimeout(this.helloTimer);
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    // A socket closed while connecting still reports an error; it has nobody left to tell.
    socket.onerror = () => {};
    try {
      socket.close(1000, 'lab closed the connection');
    } catch {
      // Closing a socket that never opened may throw in some browsers; it is gone either way.
    }
  }

  private read(key: string): string | null {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): void {
    try {
      this.storage?.setItem(key, value);
    } catch {
      // Storage may be off (private windows, sandboxed embeds); the fields still work.
    }
  }
}

/** The message for a scenario the bridge did not list. */
function cannotRun(scenario: string, scenarios: readonly string[]): BridgeProblem {
  return {
    kind: 'scenario',
    title: `The bridge cannot run “${scenario}”`,
    message: scenarios.length
      ? `It runs: ${scenarios.join(', ')}. Pick one of those in the scenario menu.`
      : 'It lists no scenarios it can run.',
    field: 'scenario',
  };
}

/**
 * Reads the port and token fields. A pasted control URL (ws://127.0.0.1:7357/control?token=…) in
 * the token field fills both, since that is what the bridge prints.
 */
export function readInput(
  portRaw: number | string,
  tokenRaw: string,
): { ok: true; port: number; token: string } | { ok: false; field: string; message: string } {
  let token = tokenRaw.trim();
  let portText = String(portRaw).trim();
  if (/^(wss?|https?):\/\//i.test(token)) {
    try {
      const url = new URL(token);
      token = url.searchParams.get('token') ?? '';
      if (url.port) portText = url.port;
    } catch {
      return { ok: false, field: 'token', message: 'The pasted address is not a valid URL.' };
    }
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65_535)
    return { ok: false, field: 'port', message: 'The port is a whole number from 1 to 65535.' };
  if (!token)
    return {
      ok: false,
      field: 'token',
      message: 'Paste the token the bridge printed when it started.',
    };
  if (token.length > 512 || /\s/.test(token))
    return { ok: false, field: 'token', message: 'That does not look like a bridge token.' };
  return { ok: true, port, token };
}

function sessionStore(): StorageLike | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** True when an HTTP server answers on the port (any answer: an opaque response is enough). */
async function listening(host: string, port: number): Promise<boolean> {
  try {
    await fetch(`http://${host}:${port}/`, {
      mode: 'no-cors',
      cache: 'no-store',
      signal: AbortSignal.timeout(3_000),
    });
    return true;
  } catch {
    return false;
  }
}
