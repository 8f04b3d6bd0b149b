// The server processes of a run: forked, configured over IPC, measured (CPU, RSS), killed with
// SIGKILL for a crash fault and restarted on the same port; every child is tracked and killed when
// the bridge ends — normally, on an error, on SIGINT/SIGTERM, and synchronously on `exit`.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerConfig, ServerReport } from './server-main.ts';

const ENTRY = fileURLToPath(new URL('./server-main.ts', import.meta.url));
/** Where the bundled server entry goes: inside the project, so its packages resolve. */
const BUNDLE = fileURLToPath(
  new URL('../../node_modules/.cache/hoplab-bridge/server-main.mjs', import.meta.url),
);
/** A server that does not listen within this is an error, not a hang. */
const START_TIMEOUT_MS = 45_000;

let entry: Promise<{ file: string; execArgv: string[] }> | undefined;

/**
 * The server entry, bundled once per bridge process with esbuild (which tsx brings), so a server
 * process starts in ~0.3 s instead of ~5 s of tsx loading on this machine; tsx if that fails.
 */
function serverEntry(): Promise<{ file: string; execArgv: string[] }> {
  entry ??= (async () => {
    try {
      const esbuild = await import('esbuild');
      await esbuild.build({
        entryPoints: [ENTRY],
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        target: 'node20',
        outfile: BUNDLE,
        logLevel: 'silent',
      });
      return { file: BUNDLE, execArgv: [] };
    } catch {
      return { file: ENTRY, execArgv: ['--import', 'tsx'] };
    }
  })();
  return entry;
}

const children = new Set<ChildProcess>();
let hooked = false;

/** Kills every child this process started (sync; safe to call twice). */
export function killAllChildren(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}

/** Child processes alive right now (tests check that a run leaves none behind). */
export function liveChildren(): number {
  return children.size;
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      killAllChildren();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
}

export interface ServerStats {
  index: number;
  pid: number;
  port: number;
  alive: boolean;
  connections: number;
  /** CPU µs used since the start (all incarnations). */
  cpuUs: number;
  rssBytes: number;
  rssPeakBytes: number;
  slowDisconnects: number;
  refused: number;
  frames: number;
  bytes: number;
  crashes: number;
}

export class Fleet {
  readonly stats: ServerStats[] = [];
  private readonly procs: (ChildProcess | null)[] = [];
  private readonly configs: ServerConfig[] = [];
  private readonly base: { slow: number; refused: number; frames: number; bytes: number }[] = [];

  constructor() {
    hook();
  }

  get ports(): number[] {
    return this.stats.map((s) => s.port);
  }

  /** Starts server `config.index`; resolves with its port once it listens. */
  async start(config: ServerConfig): Promise<number> {
    const { file, execArgv } = await serverEntry();
    return this.spawn(config, file, execArgv);
  }

  private spawn(config: ServerConfig, file: string, execArgv: string[]): Promise<number> {
    const i = config.index;
    this.configs[i] = config;
    this.stats[i] ??= {
      index: i,
      pid: 0,
      port: config.port,
      alive: false,
      connections: 0,
      cpuUs: 0,
      rssBytes: 0,
      rssPeakBytes: 0,
      slowDisconnects: 0,
      refused: 0,
      frames: 0,
      bytes: 0,
      crashes: 0,
    };
    this.base[i] ??= { slow: 0, refused: 0, frames: 0, bytes: 0 };
    const child = fork(file, [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    children.add(child);
    this.procs[i] = child;
    const st = this.stats[i];
    st.pid = child.pid ?? 0;
    const b = this.base[i];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`server ${i} did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.on('message', (msg: ServerReport) => {
        if (msg.type === 'listening') {
          clearTimeout(timer);
          st.port = msg.port;
          st.alive = true;
          this.configs[i] = { ...this.configs[i], port: msg.port };
          resolve(msg.port);
        } else if (msg.type === 'stats') {
          st.cpuUs += msg.cpuUs;
          st.rssBytes = msg.rssBytes;
          if (msg.rssBytes > st.rssPeakBytes) st.rssPeakBytes = msg.rssBytes;
          st.connections = msg.connections;
          st.slowDisconnects = b.slow + msg.slowDisconnects;
          st.refused = b.refused + msg.refused;
          st.frames = b.frames + msg.frames;
          st.bytes = b.bytes + msg.bytes;
        }
      });
      child.on('exit', () => {
        children.delete(child);
        clearTimeout(timer);
        if (this.procs[i] === child) {
          st.alive = false;
          st.connections = 0;
          // Counters of the next incarnation add to what this one reported.
          this.base[i] = {
            slow: st.slowDisconnects,
            refused: st.refused,
            frames: st.frames,
            bytes: st.bytes,
          };
        }
        reject(new Error(`server ${i} exited before listening`));
      });
      child.send({ type: 'init', config });
    });
  }

  /** server-crash: SIGKILL, no goodbye (the kernel closes its sockets). */
  crash(i: number): void {
    const child = this.procs[i];
    if (!child) return;
    this.stats[i].crashes++;
    this.stats[i].alive = false;
    child.kill('SIGKILL');
  }

  /** Restarts a crashed server on its old port (its in-memory state is gone). */
  async restart(i: number): Promise<void> {
    if (this.stats[i]?.alive) return;
    await this.start(this.configs[i]);
  }

  isAlive(i: number): boolean {
    return this.stats[i]?.alive ?? false;
  }

  broadcast(msg: { type: 'broker-down' | 'broker-up' }): void {
    for (const p of this.procs) if (p?.connected) p.send(msg);
  }

  /** Kills every server of this fleet and waits for them to be gone. */
  async stop(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const p of this.procs) {
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      waits.push(new Promise((resolve) => p.once('exit', () => resolve())));
      p.kill('SIGKILL');
    }
    await Promise.all(waits);
  }
}
