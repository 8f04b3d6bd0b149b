// The run as URL query parameters: ?scenario=two-hop&seed=7&users=2000 (only non-defaults are written), and the text form of A/B arms.
import { ScenarioError } from './errors.ts';
import { getScenario } from './registry.ts';
import { DEFAULT_SEED, resolveRun, type RunSpec } from './resolve.ts';

/** The part of URLSearchParams used here (the pure core is compiled without DOM or Node types). */
interface QueryParams extends Iterable<[string, string]> {
  get(key: string): string | null;
  set(key: string, value: string): void;
  toString(): string;
}
const QueryParams = (
  globalThis as unknown as { URLSearchParams: new (init?: string) => QueryParams }
).URLSearchParams;

/** Names the URL reserves for itself; scenario parameters may not use them. */
export const RESERVED_QUERY_KEYS = [
  'scenario',
  'seed',
  'embed',
  'view',
  'arms',
  'faults',
  'ab',
] as const;

/** The URL key holding every arm of an A/B comparison: `ab=batched:batchWindowMs=100;plain:`. */
export const AB_QUERY_KEY = 'ab';

/** One arm of an A/B comparison: a short name and parameter overrides on top of the run's own. */
export interface OverrideArm {
  name: string;
  /** Parameter values by name, as text (the CLI, the URL) or typed (the lab's editor). */
  overrides: Record<string, number | string>;
}

/** Arm names: short identifiers that read well in a table header, a URL and a shell. */
export const ARM_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,23}$/;

export const DEFAULT_SCENARIO = 'two-hop';

/** Reads a run from a query string; throws ScenarioError naming the bad URL parameter. */
export function runFromQuery(search: string): RunSpec {
  const query = new QueryParams(search);
  const scenario = getScenario(query.get('scenario') ?? DEFAULT_SCENARIO);
  const overrides: Record<string, string> = Object.create(null);
  for (const [key, value] of query) {
    if ((RESERVED_QUERY_KEYS as readonly string[]).includes(key)) continue;
    if (Object.hasOwn(overrides, key))
      throw new ScenarioError(key.slice(0, 60), 'appears twice in the URL');
    overrides[key] = value;
  }
  const faultsText = query.get('faults');
  let faults: unknown;
  if (faultsText !== null) {
    try {
      faults = JSON.parse(faultsText);
    } catch {
      throw new ScenarioError('faults', 'must be a JSON array of faults');
    }
  }
  return resolveRun(scenario, overrides, query.get('seed') ?? DEFAULT_SEED, { faults });
}

/** Writes a run as a query string, omitting parameters at their defaults. */
export function queryFromRun(run: RunSpec, extra: Record<string, string> = {}): string {
  const query = new QueryParams();
  query.set('scenario', run.scenario.id);
  query.set('seed', String(run.seed));
  for (const p of run.scenario.parameters) {
    const value = run.params[p.name];
    if (value !== p.default) query.set(p.name, String(value));
  }
  // A cluster run whose fault schedule differs from its scenario's (faults injected by click).
  const own = getScenario(run.scenario.id);
  if (run.scenario.model === 'cluster' && own.model === 'cluster') {
    const faults = JSON.stringify(run.scenario.topology.faults);
    if (faults !== JSON.stringify(own.topology.faults)) query.set('faults', faults);
  }
  for (const [k, v] of Object.entries(extra)) query.set(k, v);
  return readableArms(query.toString());
}

/** Undoes the escaping of `:` `,` `;` `=` in the `ab` value: they are safe there and read better. */
function readableArms(text: string): string {
  return text.replace(/(^|&)ab=([^&]*)/, (_, lead: string, value: string) => {
    const plain = value.replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%3B/gi, ';');
    return `${lead}ab=${plain.replace(/%3D/gi, '=')}`;
  });
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/**
 * Reads one arm, `name:key=value,key=value` (`name:` alone is the scenario as it is). Only the
 * shape is checked here; values are checked against the scenario by armsFromOverrides, exactly
 * like `--set`. `field` is the input at fault in errors (`--arm`, `ab`).
 */
export function parseArmText(text: string, field: string): OverrideArm {
  const colon = text.indexOf(':');
  if (colon < 0)
    throw new ScenarioError(field, `expected name:key=value,… for an arm, got ${quoted(text)}`);
  const name = text.slice(0, colon);
  if (!ARM_NAME_PATTERN.test(name))
    throw new ScenarioError(
      field,
      `arm name ${quoted(name)} must be 1–24 of a-z, 0-9 and -, starting with a letter or digit`,
    );
  const overrides: Record<string, string> = Object.create(null);
  const body = text.slice(colon + 1);
  for (const pair of body === '' ? [] : body.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ScenarioError(`arm ${name}`, `expected key=value, got ${quoted(pair)}`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(overrides, key))
      throw new ScenarioError(`arm ${name}: ${key.slice(0, 60)}`, 'is set twice');
    overrides[key] = pair.slice(eq + 1);
  }
  return { name, overrides };
}

/** One arm as text: `batched:batchWindowMs=100,conflation=merge`, or `plain:` with no overrides. */
export function armText(arm: OverrideArm): string {
  const pairs = Object.entries(arm.overrides).map(([k, v]) => `${k}=${v}`);
  return `${arm.name}:${pairs.join(',')}`;
}

/** The `ab` value: every arm, separated by `;`. */
export function abText(arms: readonly OverrideArm[]): string {
  return arms.map(armText).join(';');
}

/** The arms of the `ab` key (null when absent); a repeated key or a malformed arm names the field. */
export function abFromQuery(search: string): OverrideArm[] | null {
  const query = new QueryParams(search);
  const values = [...query].filter(([k]) => k === AB_QUERY_KEY);
  if (values.length === 0) return null;
  if (values.length > 1) throw new ScenarioError(AB_QUERY_KEY, 'appears twice in the URL');
  const text = values[0][1];
  if (text.trim() === '') throw new ScenarioError(AB_QUERY_KEY, 'lists no arms');
  return text.split(';').map((part) => parseArmText(part, AB_QUERY_KEY));
}
