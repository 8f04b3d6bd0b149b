// `hoplab bridge …`: run a scenario against real local servers, serve the control socket for the
// lab, or calibrate. Bad flags are ScenarioErrors naming the flag (the CLI exits with code 2).
import { parseRunFlags } from '../cli/args.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import { resolveRun, type RunSpec } from '../scenario/resolve.ts';
import { redisReachable } from './broker-client.ts';
import { calibrate } from './calibrate.ts';
import { killAllChildren } from './fleet.ts';
import { makePlan, type NetMode } from './plan.ts';
import { BRIDGE_DEFAULT_PORT } from './protocol.ts';
import type { BridgeReport } from './protocol.ts';
import { runBridge } from './run.ts';
import { serve } from './serve.ts';

export const BRIDGE_USAGE = `  bridge <scenario> [--seed N] [--set name=value ...] [--duration S] [--json]
         [--broker redis://host:port] [--net emulate|loopback] [--faults '<JSON>']
                                         replay the scenario against real servers on 127.0.0.1
                                         and print simulated vs measured (--json: one object)
  bridge serve [--port N] [--broker redis://host:port]
                                         control WebSocket for the lab's "real servers" panel
                                         (prints the URL with its token)
  bridge calibrate                       measure loopback delay and per-send cost here and print
                                         the --set values that make the simulator match`;

interface BridgeFlags {
  broker?: string;
  net: NetMode;
  port?: number;
  mqtt?: string;
  rest: string[];
}

/** Takes the bridge's own flags out of argv; the rest are `run`'s flags. */
function bridgeFlags(argv: string[]): BridgeFlags {
  const out: BridgeFlags = { net: 'emulate', rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(0, eq) : a) : '';
    if (!['--broker', '--net', '--port', '--mqtt'].includes(name)) {
      out.rest.push(a);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('--'))
      throw new ScenarioError(name, 'needs a value');
    if (name === '--broker') {
      if (!/^redis:\/\/[^\s/]+(:\d{1,5})?\/?$/.test(value))
        throw new ScenarioError(
          '--broker',
          `expected redis://host:port, got ${JSON.stringify(value.slice(0, 60))}`,
        );
      out.broker = value;
    } else if (name === '--net') {
      if (value !== 'emulate' && value !== 'loopback')
        throw new ScenarioError(
          '--net',
          `must be emulate or loopback, got ${JSON.stringify(value.slice(0, 40))}`,
        );
      out.net = value;
    } else if (name === '--port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535)
        throw new ScenarioError(
          '--port',
          `must be a port number 0..65535, got ${JSON.stringify(value.slice(0, 40))}`,
        );
      out.port = Number(value);
    } else out.mqtt = value;
  }
  if (out.mqtt !== undefined)
    throw new ScenarioError(
      '--mqtt',
      'no MQTT scenario exists yet, so there is nothing to run against an MQTT broker',
    );
  return out;
}

function redisUrlOf(flag: string | undefined): string | undefined {
  const url = flag ?? process.env.REDIS_URL;
  if (url !== undefined && flag === undefined && !/^redis:\/\//.test(url))
    throw new ScenarioError('REDIS_URL', 'expected redis://host:port');
  return url;
}

/** The resolver the plan uses to rerun the simulated side with adjusted parameters. */
export function resolverFor(run: RunSpec): (o: Record<string, string | number>) => RunSpec {
  const sc = getScenario(run.scenario.id);
  const faults = run.scenario.model === 'cluster' ? run.scenario.topology.faults : undefined;
  return (o) => resolveRun(sc, o, run.seed, { faults });
}

const fmt = (x: unknown, digits = 1): string =>
  typeof x === 'number'
    ? Number.isInteger(x)
      ? String(x)
      : x.toFixed(digits)
    : x === undefined
      ? '—'
      : String(x);

/** Simulated and measured side by side. */
export function formatReport(r: BridgeReport, rerun: string): string {
  const s = r.simulated as Record<string, unknown>;
  const m = r.measured as Record<string, unknown>;
  const sl = s.latencyMs as Record<string, number>;
  const ml = m.latencyMs as Record<string, number>;
  const simLost = (s.lost as number | undefined) ?? (s.dropped as number);
  const rows: [string, unknown, unknown][] = [
    ['produced', s.produced, m.produced],
    ['owed (fanout)', s.fanout, m.fanout],
    [
      'delivered (+in flight at end)',
      (s.delivered as number) + (s.inFlight as number),
      m.delivered,
    ],
    ['lost', simLost, m.lost],
    ['duplicated', s.duplicated, m.duplicated],
    ['out of order', s.outOfOrder, m.outOfOrder],
    ['latency p50 ms', sl.p50, ml.p50],
    ['latency p90 ms', sl.p90, ml.p90],
    ['latency p99 ms', sl.p99, ml.p99],
    ['latency max ms', sl.max, ml.max],
    ['reconnects', undefined, m.reconnects],
    ['server CPU (share of a core)', undefined, m.serverCpuUtilisation],
    ['server RSS MB (max)', undefined, m.serverMemoryMB],
  ];
  const lines = [
    `bridge ${r.scenario}  seed ${r.seed}  broker ${r.broker}  net ${String(m.net)}`,
    `${'figure'.padEnd(32)}${'simulated'.padStart(14)}${'measured'.padStart(14)}`,
    ...rows.map(([k, a, b]) => `${k.padEnd(32)}${fmt(a, 2).padStart(14)}${fmt(b, 2).padStart(14)}`),
    `agreement: p50 measured/simulated ${r.agreement.p50Ratio}  delivered ${r.agreement.deliveredEqual ? 'equal' : 'DIFFERENT'}  lost ${r.agreement.lostEqual ? 'equal' : 'DIFFERENT'}`,
  ];
  const faults = m.faults as { kind: string; atS: number; hit: number }[];
  if (faults?.length)
    lines.push(
      `faults applied: ${faults.map((f) => `${f.kind}@${f.atS.toFixed(1)}s (hit ${f.hit})`).join(', ')}`,
    );
  const unsupported = m.unsupportedFaults as string[];
  if (unsupported?.length) lines.push(`faults not reproduced for real: ${unsupported.join(', ')}`);
  for (const n of (m.notes as string[]) ?? []) lines.push(`note: ${n}`);
  lines.push(`rerun: ${rerun}`);
  return lines.join('\n');
}

async function runCommand(argv: string[]): Promise<void> {
  const bf = bridgeFlags(argv);
  if (bf.port !== undefined) throw new ScenarioError('--port', 'only for `bridge serve`');
  const flags = parseRunFlags('run', bf.rest);
  const run = flags.runs[0];
  const redisUrl = redisUrlOf(bf.broker);
  if (redisUrl && !(await redisReachable(redisUrl)))
    throw new ScenarioError('--broker', `no Redis answers at ${redisUrl}`);
  const plan = await makePlan(run, { net: bf.net }, resolverFor(run));
  const extra = `${bf.broker ? ` --broker ${bf.broker}` : ''}${bf.net !== 'emulate' ? ` --net ${bf.net}` : ''}`;
  const rerun = flags.rerun.replace('npm run hoplab -- run ', 'npm run hoplab -- bridge ') + extra;
  const showProgress = process.stderr.isTTY && !flags.json;
  const details = await runBridge(plan, {
    redisUrl,
    onProgress: showProgress
      ? (m) =>
          process.stderr.write(
            `\r\x1b[K  ${m.tS.toFixed(1)} s  delivered ${m.delivered}/${m.fanout}  p50 ${m.latencyMs.p50.toFixed(1)} ms  connections ${m.connections}`,
          )
      : undefined,
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (flags.json) console.log(JSON.stringify(details.report));
  else console.log(formatReport(details.report, rerun));
}

export async function bridgeMain(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  try {
    if (sub === undefined)
      throw new ScenarioError('scenario', 'expected a scenario id, `serve` or `calibrate`');
    if (sub === 'serve') {
      const bf = bridgeFlags(rest);
      if (bf.rest.length > 0)
        throw new ScenarioError('flags', `unexpected ${JSON.stringify(bf.rest[0])}`);
      const redisUrl = redisUrlOf(bf.broker);
      if (redisUrl && !(await redisReachable(redisUrl)))
        throw new ScenarioError('--broker', `no Redis answers at ${redisUrl}`);
      const handle = await serve({ port: bf.port ?? BRIDGE_DEFAULT_PORT, redisUrl });
      console.log(`hoplab bridge: control socket ${handle.url}`);
      console.log(`token: ${handle.token}`);
      await handle.closed;
      return;
    }
    if (sub === 'calibrate') {
      const bf = bridgeFlags(rest);
      if (bf.rest.length > 0)
        throw new ScenarioError('flags', `unexpected ${JSON.stringify(bf.rest[0])}`);
      console.log(await calibrate());
      return;
    }
    await runCommand(argv);
  } finally {
    killAllChildren();
  }
}
