// Parses the CLI's flags into a RunSpec; every bad flag becomes one ScenarioError line.
import { parseArgs } from 'node:util';
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import { DEFAULT_SEED, resolveRun, type RunSpec } from '../scenario/resolve.ts';

export interface RunFlags {
  run: RunSpec;
  json: boolean;
  trace: boolean;
  /** The command line that reruns exactly this run. */
  rerun: string;
}

const options = {
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  duration: { type: 'string' },
  json: { type: 'boolean' },
  trace: { type: 'boolean' },
} as const;

/** `run <scenario> [--seed N] [--set name=value ...] [--duration S] [--json] [--trace]` */
export function parseRunFlags(argv: string[]): RunFlags {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ScenarioError('flags', (e as Error).message.split('. ')[0]);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new ScenarioError(
      'scenario',
      `expected exactly one scenario id, got ${positionals.length}`,
    );
  const scenario = getScenario(positionals[0]);
  const overrides: Record<string, string> = Object.create(null);
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ScenarioError('--set', `expected name=value, got ${JSON.stringify(pair)}`);
    const name = pair.slice(0, eq);
    if (Object.hasOwn(overrides, name)) throw new ScenarioError(name, 'is set twice');
    overrides[name] = pair.slice(eq + 1);
  }
  if (values.duration !== undefined) {
    if (!scenario.parameters.some((p) => p.name === 'duration'))
      throw new ScenarioError('--duration', `${scenario.id} has no duration parameter`);
    if (Object.hasOwn(overrides, 'duration'))
      throw new ScenarioError('--duration', 'given both as --duration and --set duration=');
    overrides.duration = values.duration;
  }
  const run = resolveRun(scenario, overrides, values.seed ?? DEFAULT_SEED);
  const sets = Object.entries(overrides)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  return {
    run,
    json: values.json ?? false,
    trace: values.trace ?? false,
    rerun: `npm run hoplab -- run ${scenario.id} --seed ${run.seed}${sets}`,
  };
}
