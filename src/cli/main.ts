// The headless command line: list scenarios and run them in Node, printing a summary or JSON.
import { ScenarioError } from '../scenario/errors.ts';
import { listScenarios } from '../scenario/registry.ts';
import { createSimulation } from '../sim/simulation.ts';
import { formatTraceLine, TRACE_HEADER } from '../sim/trace-format.ts';
import { parseRunFlags } from './args.ts';
import { formatSummary, progressLine } from './format.ts';

const USAGE = `usage: npm run hoplab -- <command>
  list                                   list scenarios
  run <scenario> [--seed N] [--set name=value ...] [--duration S] [--json] [--trace]
                                         run headless; --json prints one JSON object,
                                         --trace prints the sampled event trace`;

/** Wall time between progress redraws and the simulated slice run between checks. */
const PROGRESS_EVERY_MS = 200;
const SLICE_EVENTS = 200_000;

function list(): void {
  for (const s of listScenarios()) {
    const params = s.parameters.map((p) => p.name).join(', ');
    console.log(`${s.id.padEnd(14)} ${s.summary}\n${''.padEnd(14)} parameters: ${params}\n`);
  }
}

async function run(argv: string[]): Promise<void> {
  const flags = parseRunFlags(argv);
  const sim = await createSimulation(flags.run);
  const showProgress = process.stderr.isTTY && !flags.json;
  const start = performance.now();
  let lastDraw = start;
  while (!sim.done) {
    sim.runUntil(sim.durationUs, SLICE_EVENTS);
    const now = performance.now();
    if (showProgress && now - lastDraw > PROGRESS_EVERY_MS) {
      process.stderr.write(
        progressLine(sim.nowUs / sim.durationUs, sim.nowUs / 1e6, sim.durationUs / 1e6),
      );
      lastDraw = now;
    }
  }
  const wallMs = performance.now() - start;
  if (showProgress && wallMs > PROGRESS_EVERY_MS) process.stderr.write('\r\x1b[K');
  const result = sim.result(wallMs);
  if (flags.trace) {
    console.log(TRACE_HEADER);
    for (const r of sim.drainTrace()) console.log(formatTraceLine(r));
  }
  if (flags.json) console.log(JSON.stringify(result));
  else console.log(formatSummary(result, flags.rerun));
  sim.dispose();
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'list') list();
    else if (command === 'run') await run(rest);
    else if (command === undefined || command === '--help' || command === 'help')
      console.log(USAGE);
    else
      throw new ScenarioError(
        'command',
        `unknown command ${JSON.stringify(command)} (try list or run)`,
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
