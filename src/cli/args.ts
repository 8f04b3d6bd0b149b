// Parses the CLI's flags into RunSpecs; every bad flag becomes one ScenarioError line.
import { parseArgs } from 'node:util';
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import { DEFAULT_SEED, resolveRun, type RunSpec } from '../scenario/resolve.ts';

export interface RunFlags {
  /** One run per scenario named on the command line, all on the same seed and overrides. */
  runs: RunSpec[];
  seed: number;
  json: boolean;
  trace: boolean;
  /** The command line that reruns exactly this. */
  rerun: string;
}

const options = {
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  duration: { type: 'string' },
  json: { type: 'boolean' },
  trace: { type: 'boolean' },
  faults: { type: 'string' },
} as const;

/** `--faults '[{"kind":"server-crash","atS":10,"forS":5}]'`: a fault schedule as JSON. */
function faultsOf(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ScenarioError('--faults', 'expected a JSON array of faults');
  }
}

function overridesOf(sets: string[], duration: string | undefined): Record<string, string> {
  const overrides: Record<string, string> = Object.create(null);
  for (const pair of sets) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ScenarioError('--set', `expected name=value, got ${JSON.stringify(pair)}`);
    const name = pair.slice(0, eq);
    if (Object.hasOwn(overrides, name)) throw new ScenarioError(name, 'is set twice');
    overrides[name] = pair.slice(eq + 1);
  }
  if (duration !== undefined) {
    if (Object.hasOwn(overrides, 'duration'))
      throw new ScenarioError('--duration', 'given both as --duration and --set duration=');
    overrides.duration = duration;
  }
  return overrides;
}

/**
 * `run <scenario> …` (exactly one scenario) or `compare <scenario> <scenario> …` (one or more),
 * with `[--seed N] [--set name=value ...] [--duration S] [--json] [--trace]`.
 */
export function parseRunFlags(command: 'run' | 'compare', argv: string[]): RunFlags {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ScenarioError('flags', (e as Error).message.split('. ')[0]);
  }
  const { values, positionals } = parsed;
  if (command === 'run' && positionals.length !== 1)
    throw new ScenarioError(
      'scenario',
      `expected exactly one scenario id, got ${positionals.length}`,
    );
  if (positionals.length === 0)
    throw new ScenarioError('scenario', 'expected one or more scenario ids');
  const overrides = overridesOf(values.set ?? [], values.duration);
  const runs = positionals.map((id) => {
    const scenario = getScenario(id);
    if (values.duration !== undefined && !scenario.parameters.some((p) => p.name === 'duration'))
      throw new ScenarioError('--duration', `${scenario.id} has no duration parameter`);
    return resolveRun(scenario, overrides, values.seed ?? DEFAULT_SEED, {
      faults: faultsOf(values.faults),
    });
  });
  const sets = Object.entries(overrides)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  const seed = runs[0].seed;
  const faults = values.faults === undefined ? '' : ` --faults '${values.faults}'`;
  return {
    runs,
    seed,
    json: values.json ?? false,
    trace: values.trace ?? false,
    rerun: `npm run hoplab -- ${command} ${positionals.join(' ')} --seed ${seed}${sets}${faults}`,
  };
}
