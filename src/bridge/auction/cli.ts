// `hoplab bridge live-auction …`: the auction's bid path against a real Redis (--broker) or the in-process store, simulated beside measured.
import { parseRunFlags } from '../../cli/args.ts';
import { ScenarioError } from '../../scenario/errors.ts';
import { listScenarios } from '../../scenario/registry.ts';
import { redisReachable } from '../broker-client.ts';
import {
  AUCTION_DEFAULT_WINDOW_S,
  AUCTION_MAX_BIDS,
  AUCTION_MAX_WINDOW_S,
  runAuctionBridge,
  type AuctionBridgeReport,
} from './run.ts';

export const AUCTION_BRIDGE_USAGE = `  bridge live-auction [--seed N] [--set control=naive|optimistic|atomic ...] [--duration S]
         [--json] [--broker redis://host:port]
                                         replay the auction's bids through a real bid path and
                                         store (Redis with --broker, else in-process): accepted,
                                         lost updates, retries, latency, simulated vs measured
                                         (${AUCTION_DEFAULT_WINDOW_S} s of bids by default, at most ${AUCTION_MAX_WINDOW_S} s / ${AUCTION_MAX_BIDS.toLocaleString('en-US')} bids)`;

/** `run`'s flags that take a value in the next word (so that word is not a scenario id). */
const VALUE_FLAGS = new Set([
  '--seed',
  '--set',
  '--duration',
  '--faults',
  '--arm',
  '--noise-seeds',
  '--broker',
  '--net',
  '--port',
  '--mqtt',
]);

/** The scenario id on a `bridge` command line: its first word that is neither a flag nor a flag's value. */
function scenarioArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/**
 * Whether `bridge <argv>` names a scenario whose application is the live auction: those replay
 * their bid path here; every other scenario goes to the fan-out bridge (`src/bridge/cli.ts`).
 */
export function isAuctionBridge(argv: readonly string[]): boolean {
  const id = scenarioArg(argv);
  if (id === undefined || id === 'serve' || id === 'calibrate') return false;
  const sc = listScenarios().find((s) => s.id === id);
  return sc?.model === 'two-hop' && sc.topology.app?.kind === 'live-auction';
}

interface AuctionFlags {
  broker?: string;
  rest: string[];
}

/**
 * Takes `--broker` out of argv with the fan-out bridge's own checks and wording (`bridgeFlags` in
 * src/bridge/cli.ts); its other flags have no meaning for a bid path and are refused by name.
 */
function auctionFlags(argv: string[]): AuctionFlags {
  const out: AuctionFlags = { rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(0, eq) : a) : '';
    if (name === '--net' || name === '--port' || name === '--mqtt')
      throw new ScenarioError(
        name,
        name === '--port'
          ? 'only for `bridge serve`'
          : 'the auction bridge replays a bid path, not connections: it takes --broker only',
      );
    if (name === '--trace')
      throw new ScenarioError(
        '--trace',
        'the auction bridge has no event trace; use `run --trace`',
      );
    if (name !== '--broker') {
      out.rest.push(a);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('--'))
      throw new ScenarioError(name, 'needs a value');
    if (!/^redis:\/\/[^\s/]+(:\d{1,5})?\/?$/.test(value))
      throw new ScenarioError(
        '--broker',
        `expected redis://host:port, got ${JSON.stringify(value.slice(0, 60))}`,
      );
    if (out.broker !== undefined) throw new ScenarioError('--broker', 'is given twice');
    out.broker = value;
  }
  return out;
}

/** The store's address: --broker, else REDIS_URL (as for the fan-out bridge), else none. */
function redisUrlOf(flag: string | undefined): { url?: string; field: string } {
  if (flag !== undefined) return { url: flag, field: '--broker' };
  const env = process.env.REDIS_URL;
  if (env === undefined || env === '') return { field: '--broker' };
  if (!/^redis:\/\//.test(env)) throw new ScenarioError('REDIS_URL', 'expected redis://host:port');
  return { url: env, field: 'REDIS_URL' };
}

const fmt = (x: unknown): string =>
  typeof x === 'number'
    ? Number.isInteger(x)
      ? x.toLocaleString('en-US')
      : x.toFixed(2)
    : x === undefined || x === null
      ? '—'
      : String(x);

/** Simulated and measured side by side, then the notes and the command that reruns it. */
export function formatAuctionReport(r: AuctionBridgeReport, rerun: string): string {
  const s = r.simulated;
  const m = r.measured;
  const rows: [string, unknown, unknown][] = [
    ['bids sent', s.bids.sent, m.bids.sent],
    ['accepted', s.bids.accepted, m.bids.accepted],
    ['rejected', s.bids.rejected, m.bids.rejected],
    ['  too low', s.bids.tooLow, m.bids.tooLow],
    [
      '  rate limited / auction ended',
      `${s.bids.rateLimited} / ${s.bids.ended}`,
      `${m.bids.rateLimited} / ${m.bids.ended}`,
    ],
    ['  gave up after retries', s.bids.gaveUp, m.bids.gaveUp],
    ['lost updates', s.bids.lostUpdates, m.bids.lostUpdates],
    ['retries', s.bids.retries, m.bids.retries],
    ['checker: writes replayed', s.checker.writes, m.checker.writes],
    ['checker: lost updates', s.checker.lostUpdates, m.checker.lostUpdates],
    ['checker: not on highest bid', s.checker.notHighest, m.checker.notHighest],
    ['checker agrees', s.checker.agrees ? 'yes' : 'NO', m.checker.agrees ? 'yes' : 'NO'],
    ['bid path p50 ms', s.latencyMs.p50, m.latencyMs.p50],
    ['bid path p99 ms', s.latencyMs.p99, m.latencyMs.p99],
    ['bid path max ms', s.latencyMs.max, m.latencyMs.max],
  ];
  if (s.conflict || m.conflict)
    rows.push(
      ['simultaneous pair: A', s.conflict?.first, m.conflict?.first],
      ['  B (sent just after A)', s.conflict?.second, m.conflict?.second],
    );
  const store =
    r.store === 'redis'
      ? `redis ${r.redisVersion ?? ''} (${r.broker})`
      : 'in-process (no --broker)';
  const lines = [
    `bridge ${r.scenario}  seed ${r.seed}  control ${r.control}  store ${store}  window ${r.windowS} s`,
    `${'figure'.padEnd(32)}${'simulated'.padStart(24)}${'measured'.padStart(24)}`,
    ...rows.map(([k, a, b]) => `${k.padEnd(32)}${fmt(a).padStart(24)}${fmt(b).padStart(24)}`),
  ];
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(`rerun: ${rerun}`);
  return lines.join('\n');
}

/**
 * Runs `bridge live-auction …`. An unreachable Redis is refused before anything is created; a
 * SIGINT or SIGTERM stops sending bids, lets those in flight finish, deletes the run's keys,
 * prints what was measured and ends with an error line (exit code 2).
 */
export async function auctionBridgeMain(argv: string[]): Promise<void> {
  const af = auctionFlags(argv);
  const flags = parseRunFlags('run', af.rest);
  const run = flags.runs[0];
  const { url, field } = redisUrlOf(af.broker);
  if (url && !(await redisReachable(url)))
    throw new ScenarioError(field, `no Redis answers at ${url}`);
  const rerun =
    flags.rerun.replace('npm run hoplab -- run ', 'npm run hoplab -- bridge ') +
    (af.broker ? ` --broker ${af.broker}` : '');
  const showProgress = process.stderr.isTTY && !flags.json;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let report: AuctionBridgeReport;
  try {
    report = await runAuctionBridge(run, {
      redisUrl: url,
      signal: abort.signal,
      onProgress: showProgress
        ? (p) =>
            process.stderr.write(
              `\r\x1b[K  ${p.tS.toFixed(1)} s  bids sent ${p.sent}  answered ${p.answered}  in flight ${p.inFlight}`,
            )
        : undefined,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (showProgress) process.stderr.write('\r\x1b[K');
  }
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(formatAuctionReport(report, rerun));
  if (abort.signal.aborted)
    throw new ScenarioError(
      'interrupted',
      `stopped by a signal after ${report.measured.bids.sent} bids; the run's keys are deleted`,
    );
}
