// Parses the CLI's flags into RunSpecs and comparison arms; every bad flag becomes one ScenarioError line.
import { parseArgs } from 'node:util';
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario } from '../scenario/registry.ts';
import { DEFAULT_SEED, resolveRun, type RunSpec } from '../scenario/resolve.ts';
import { armText, parseArmText, type OverrideArm } from '../scenario/url.ts';
import {
  armsFromOverrides,
  armsOf,
  DEFAULT_NOISE_SEEDS,
  MAX_NOISE_SEEDS,
  type Arm,
} from '../sim/compare.ts';

export interface RunFlags {
  /** One run per scenario named on the command line, all on the same seed and overrides. */
  runs: RunSpec[];
  /** What runs: each run's own arms (protocol=all expands), or the `--arm` override arms. */
  arms: Arm[];
  seed: number;
  /** Comparisons: extra seeds every arm also runs on, to measure the run-to-run noise. */
  noiseSeeds: number;
  json: boolean;
  trace: boolean;
  /** The command line that reruns exactly this. */
  rerun: string;
}

const options = {
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  arm: { type: 'string', multiple: true },
  duration: { type: 'string' },
  'noise-seeds': { type: 'string' },
  json: { type: 'boolean' },
  trace: { type: 'boolean' },
  faults: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];

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

const takesValue = (name: string): boolean =>
  Object.hasOwn(options, name) && options[name as keyof typeof options].type === 'string';

/**
 * Refuses what parseArgs would take silently or word badly: a value that starts with `-` (a
 * forgotten value swallowing the next flag, or `--seed=-1`) and a missing value.
 */
function checkValues(argv: readonly string[]): void {
  argv.forEach((arg, i) => {
    const match = /^--([^=]+)(=(.*))?$/s.exec(arg);
    if (!match || !takesValue(match[1])) return;
    const value = match[2] === undefined ? argv[i + 1] : match[3];
    if (value === undefined) throw new ScenarioError(`--${match[1]}`, 'expected a value');
    if (value.startsWith('-'))
      throw new ScenarioError(
        `--${match[1]}`,
        `expected a value, got ${JSON.stringify(value.slice(0, 40))} (a value may not start with "-")`,
      );
  });
}

function parse(argv: string[]) {
  checkValues(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new ScenarioError('flags', (e as Error).message.split(/\.\s/)[0]);
  }
  // A flag given twice would silently keep the last value; only --set and --arm repeat.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'set' || token.name === 'arm') continue;
    if (seen.has(token.name)) throw new ScenarioError(`--${token.name}`, 'is given twice');
    seen.add(token.name);
  }
  return parsed;
}

function noiseSeedsOf(command: 'run' | 'compare', values: Values): number {
  const text = values['noise-seeds'];
  if (text === undefined) return command === 'compare' ? DEFAULT_NOISE_SEEDS : 0;
  if (command === 'run') throw new ScenarioError('--noise-seeds', 'only `compare` takes it');
  if (!/^\d{1,2}$/.test(text) || Number(text) > MAX_NOISE_SEEDS)
    throw new ScenarioError(
      '--noise-seeds',
      `must be a whole number from 0 to ${MAX_NOISE_SEEDS}, got ${JSON.stringify(text)}`,
    );
  return Number(text);
}

/** The `--arm name:k=v,…` flags, checked for shape (values are checked with the scenario). */
function overrideArmsOf(
  command: 'run' | 'compare',
  values: Values,
  positionals: string[],
): OverrideArm[] | null {
  const texts = values.arm;
  if (!texts) return null;
  if (command === 'run') throw new ScenarioError('--arm', 'only `compare` takes arms');
  if (positionals.length !== 1)
    throw new ScenarioError(
      '--arm',
      `arms compare variants of one scenario; got ${positionals.length} scenario ids`,
    );
  return texts.map((text) => parseArmText(text, '--arm'));
}

function rerunOf(
  command: 'run' | 'compare',
  positionals: string[],
  seed: number,
  values: Values,
  overrides: Record<string, string>,
  armFlags: OverrideArm[] | null,
): string {
  const sets = Object.entries(overrides)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  const faults = values.faults === undefined ? '' : ` --faults '${values.faults}'`;
  const arms = (armFlags ?? []).map((a) => ` --arm ${armText(a)}`).join('');
  const noise =
    values['noise-seeds'] === undefined ? '' : ` --noise-seeds ${values['noise-seeds']}`;
  return `npm run hoplab -- ${command} ${positionals.join(' ')} --seed ${seed}${sets}${faults}${arms}${noise}`;
}

/**
 * `run <scenario> …` (exactly one scenario) or `compare <scenario> <scenario> …` (one or more),
 * with `[--seed N] [--set name=value ...] [--duration S] [--json] [--trace]`; `compare` also takes
 * `--arm name:k=v[,k=v…]` (two or more, one scenario) and `--noise-seeds K`.
 */
export function parseRunFlags(command: 'run' | 'compare', argv: string[]): RunFlags {
  const { values, positionals } = parse(argv);
  if (command === 'run' && positionals.length !== 1)
    throw new ScenarioError(
      'scenario',
      `expected exactly one scenario id, got ${positionals.length}`,
    );
  if (positionals.length === 0)
    throw new ScenarioError('scenario', 'expected one or more scenario ids');
  const overrides = overridesOf(values.set ?? [], values.duration);
  const armFlags = overrideArmsOf(command, values, positionals);
  const noiseSeeds = noiseSeedsOf(command, values);
  const runs = positionals.map((id) => {
    const scenario = getScenario(id);
    if (values.duration !== undefined && !scenario.parameters.some((p) => p.name === 'duration'))
      throw new ScenarioError('--duration', `${scenario.id} has no duration parameter`);
    return resolveRun(scenario, overrides, values.seed ?? DEFAULT_SEED, {
      faults: faultsOf(values.faults),
    });
  });
  const arms = armFlags ? armsFromOverrides(runs[0], armFlags, '--arm') : runs.flatMap(armsOf);
  const seed = runs[0].seed;
  return {
    runs,
    arms,
    seed,
    noiseSeeds,
    json: values.json ?? false,
    trace: values.trace ?? false,
    rerun: rerunOf(command, positionals, seed, values, overrides, armFlags),
  };
}
