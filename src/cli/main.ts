// The headless command line: list scenarios and run them in Node, printing a summary or JSON.
import { ScenarioError } from '../scenario/errors.ts';
import { evaluateClaims } from '../sim/claims.ts';
import { scenarioGroups } from '../scenario/groups.ts';
import { listScenarios } from '../scenario/registry.ts';
import {
  differences,
  figuresOf,
  noiseSeeds,
  onSeed,
  type Arm,
  type FigureSet,
} from '../sim/compare.ts';
import { createSimulation, type Simulation } from '../sim/simulation.ts';
import type { RunResult } from '../sim/types.ts';
import { formatTraceLine, TRACE_HEADER } from '../sim/trace-format.ts';
import { BRIDGE_USAGE, bridgeMain } from '../bridge/cli.ts';
import { AUCTION_BRIDGE_USAGE, auctionBridgeMain, isAuctionBridge } from '../bridge/auction/cli.ts';
import { parseRunFlags, type RunFlags } from './args.ts';
import {
  comparisonJson,
  formatComparison,
  formatClaims,
  formatDifferences,
  formatSummary,
  progressLine,
} from './format.ts';

const USAGE = `usage: npm run hoplab -- <command>
  list                                   list scenarios
  run <scenario> [--seed N] [--set name=value ...] [--duration S] [--json] [--trace]
                                         run headless; --json prints one JSON object,
                                         --trace prints the sampled event trace
  run <cluster scenario> ... --faults '<JSON array>'
                                         replace the scenario's fault schedule
  compare <scenario> <scenario> ... [same flags] [--noise-seeds K]
                                         run them on the same seed and workload, side by side
                                         (a protocol scenario set to protocol=all runs all five)
  compare <scenario> --arm <name>:<k=v>[,<k=v>...] --arm <name>:... [same flags] [--noise-seeds K]
                                         A/B: each arm's overrides on top of the run's own;
                                         every arm also runs on K more seeds (default 3) and a
                                         difference wins only outside that noise
  claims <scenario> [--seed N] [--set name=value ...] [--json]
                                         the guide's figures the scenario checks: each claim's
                                         runs, the measured figure and whether the claim holds
${BRIDGE_USAGE}
${AUCTION_BRIDGE_USAGE}`;

/** Wall time between progress redraws and the simulated slice run between checks. */
const PROGRESS_EVERY_MS = 200;
const SLICE_EVENTS = 200_000;

function list(): void {
  for (const g of scenarioGroups(listScenarios())) {
    console.log(`== ${g.label.toLowerCase()}\n`);
    for (const s of g.scenarios) {
      const params = s.parameters.map((p) => p.name).join(', ');
      console.log(`${s.id.padEnd(14)} ${s.summary}\n${''.padEnd(14)} parameters: ${params}\n`);
    }
  }
}

/** Runs one simulation to its end, drawing a progress bar on a terminal. */
async function runToEnd(sim: Simulation, label: string, showProgress: boolean): Promise<number> {
  const start = performance.now();
  let lastDraw = start;
  while (!sim.done) {
    sim.runUntil(sim.durationUs, SLICE_EVENTS);
    const now = performance.now();
    if (showProgress && now - lastDraw > PROGRESS_EVERY_MS) {
      process.stderr.write(
        `${progressLine(sim.nowUs / sim.durationUs, sim.nowUs / 1e6, sim.durationUs / 1e6)}  ${label}`,
      );
      lastDraw = now;
    }
  }
  const wallMs = performance.now() - start;
  if (showProgress && wallMs > PROGRESS_EVERY_MS) process.stderr.write('\r\x1b[K');
  return wallMs;
}

async function runArms(flags: RunFlags, showProgress: boolean): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const arm of flags.arms) {
    const sim = await createSimulation(arm.run);
    const wallMs = await runToEnd(sim, arm.label, showProgress);
    if (flags.trace) {
      console.log(TRACE_HEADER);
      for (const r of sim.drainTrace()) console.log(formatTraceLine(r));
    }
    results.push(sim.result(wallMs));
    sim.dispose();
  }
  return results;
}

/** Every arm on every noise seed: per arm, its figures on each seed. */
async function runNoise(
  arms: readonly Arm[],
  seeds: readonly number[],
  showProgress: boolean,
): Promise<FigureSet[][]> {
  const figures: FigureSet[][] = arms.map(() => []);
  for (const seed of seeds)
    for (const [i, arm] of arms.entries()) {
      const sim = await createSimulation(onSeed(arm.run, seed));
      await runToEnd(sim, `${arm.label}, noise seed ${seed}`, showProgress);
      figures[i].push(figuresOf(sim.result(0)));
      sim.dispose();
    }
  return figures;
}

/** A comparison: the arms on the main seed, then on the noise seeds, then the differences. */
async function compare(flags: RunFlags, showProgress: boolean): Promise<void> {
  const results = await runArms(flags, showProgress);
  const seeds = noiseSeeds(flags.seed, flags.noiseSeeds);
  const noise = seeds.length ? await runNoise(flags.arms, seeds, showProgress) : null;
  const diffs = differences(
    results.map((r) => figuresOf(r)),
    noise,
  );
  if (flags.json) {
    console.log(JSON.stringify(comparisonJson(flags.seed, seeds, flags.arms, results, diffs)));
    return;
  }
  console.log(formatDifferences(flags.arms, results, diffs, seeds, flags.rerun));
}

async function run(command: 'run' | 'compare', argv: string[]): Promise<void> {
  const flags = parseRunFlags(command, argv);
  const showProgress = process.stderr.isTTY && !flags.json;
  if (command === 'compare') return compare(flags, showProgress);
  const results = await runArms(flags, showProgress);
  // One arm prints one run; a protocol scenario set to "all" prints the matrix of its arms.
  if (results.length === 1) {
    if (flags.json) console.log(JSON.stringify(results[0]));
    else console.log(formatSummary(results[0], flags.rerun));
  } else if (flags.json) {
    console.log(JSON.stringify({ seed: flags.seed, results }));
  } else {
    console.log(
      formatComparison(
        flags.arms.map((a) => a.label),
        results,
        flags.rerun,
      ),
    );
  }
}

async function claims(argv: string[]): Promise<void> {
  const flags = parseRunFlags('run', argv);
  const spec = flags.runs[0];
  if (spec.scenario.claims.length === 0)
    throw new ScenarioError(
      'scenario',
      `${spec.scenario.id} states no claims of the guide to check`,
    );
  const showProgress = process.stderr.isTTY && !flags.json;
  const results = await evaluateClaims(spec.scenario, {
    params: spec.params,
    seed: spec.seed,
    progress: (done, total) => {
      if (showProgress) process.stderr.write(`\r\x1b[Krun ${done} of ${total}`);
    },
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  const command = flags.rerun.replace(' run ', ' claims ');
  if (flags.json)
    console.log(JSON.stringify({ scenario: spec.scenario.id, seed: spec.seed, claims: results }));
  else console.log(formatClaims(spec.scenario.id, results, command));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'list') list();
    else if (command === 'run' || command === 'compare') await run(command, rest);
    else if (command === 'bridge')
      await (isAuctionBridge(rest) ? auctionBridgeMain(rest) : bridgeMain(rest));
    else if (command === 'claims') await claims(rest);
    else if (command === undefined || command === '--help' || command === 'help')
      console.log(USAGE);
    else
      throw new ScenarioError(
        'command',
        `unknown command ${JSON.stringify(command)} (try list, run, compare, claims or bridge)`,
      );
    return 0;
  } catch (e) {
    if (e instanceof ScenarioError) {
      console.error(`hoplab: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

// A closed pipe (`| head`) ends the output, not the process with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
