// Loads scenario files and applies parameter overrides and seeds, with field-named errors.
import { z } from 'zod';
import { ScenarioError } from './errors.ts';
import type { Claim } from './claims-schema.ts';
import { scenarioSchema, type Parameter, type Scenario, type ScenarioFile } from './schema.ts';

/** A validated scenario with its parameters' defaults filled in. */
type WithParameters<T> = T extends unknown
  ? Omit<T, 'parameters'> & { parameters: Parameter[] }
  : never;
export type LoadedScenario = WithParameters<Scenario>;

/** Everything a run needs: the scenario with overrides applied, the seed and all parameter values. */
export interface RunSpec {
  scenario: LoadedScenario;
  seed: number;
  /** Every parameter's value for this run (defaults included), by parameter name. */
  params: Record<string, number | string>;
}

export const SEED_MAX = 4_294_967_295;
export const DEFAULT_SEED = 1;

function describeIssue(prefix: string, issue: z.core.$ZodIssue): ScenarioError {
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return new ScenarioError(field || prefix, issue.message);
}

function readPath(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function writePath(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
}

/** Validates a scenario file; throws ScenarioError naming the first bad field. */
export function loadScenario(file: ScenarioFile): LoadedScenario {
  const parsed = scenarioSchema.safeParse(file);
  const id = typeof file?.id === 'string' ? file.id : 'scenario';
  if (!parsed.success) throw describeIssue(id, parsed.error.issues[0]);
  const scenario = parsed.data;
  const seen = new Set<string>();
  const parameters: Parameter[] = scenario.parameters.map((p) => {
    const field = `${id}.parameters.${p.name}`;
    if (seen.has(p.name)) throw new ScenarioError(field, 'is declared twice');
    seen.add(p.name);
    const value = readPath(scenario, p.path);
    if (p.kind === 'number') {
      if (p.off && value === 'off') return { ...p, default: value };
      if (typeof value !== 'number')
        throw new ScenarioError(field, `path ${p.path} is not a number${p.off ? ' or off' : ''}`);
      if (value < p.min || value > p.max)
        throw new ScenarioError(field, `default ${value} is outside [${p.min}, ${p.max}]`);
      return { ...p, default: value };
    }
    if (typeof value !== 'string' || !p.options.includes(value))
      throw new ScenarioError(field, `path ${p.path} holds none of ${p.options.join(', ')}`);
    return { ...p, default: value };
  });
  checkClaims(id, scenario.claims, parameters);
  return { ...scenario, parameters } as LoadedScenario;
}

/** Every override a claim names is a parameter of the scenario with an allowed value. */
function checkClaims(id: string, claims: readonly Claim[], parameters: readonly Parameter[]): void {
  const seen = new Set<string>();
  for (const claim of claims) {
    const field = `${id}.claims.${claim.id}`;
    if (seen.has(claim.id)) throw new ScenarioError(field, 'is declared twice');
    seen.add(claim.id);
    for (const [which, set] of [
      ['with', claim.with],
      ['base', claim.base ?? {}],
    ] as const)
      for (const [name, value] of Object.entries(set)) {
        const p = parameters.find((q) => q.name === name);
        if (!p) throw new ScenarioError(`${field}.${which}.${name}`, 'is not a parameter');
        try {
          parseParameterValue(p, value);
        } catch (e) {
          throw new ScenarioError(`${field}.${which}.${name}`, (e as Error).message);
        }
      }
  }
}

/** Parses a seed from text or a number: an integer in [0, 4294967295]. */
export function parseSeed(raw: unknown, field = 'seed'): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{1,10}$/.test(text) || Number(text) > SEED_MAX)
    throw new ScenarioError(field, `must be an integer from 0 to ${SEED_MAX}, got ${quote(raw)}`);
  return Number(text);
}

function quote(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Checks one override against its parameter and returns the typed value. */
export function parseParameterValue(p: Parameter, raw: unknown): number | string {
  if (p.kind === 'choice') {
    if (typeof raw !== 'string' || !p.options.includes(raw))
      throw new ScenarioError(p.name, `must be one of ${p.options.join(', ')}, got ${quote(raw)}`);
    return raw;
  }
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (p.off && text === 'off') return 'off';
  const value = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : NaN;
  const range = `[${p.min}, ${p.max}]${p.unit ? ` ${p.unit}` : ''}`;
  const orOff = p.off ? ' or off' : '';
  if (!Number.isFinite(value))
    throw new ScenarioError(p.name, `must be a number in ${range}${orOff}, got ${quote(raw)}`);
  if (value < p.min || value > p.max)
    throw new ScenarioError(p.name, `must be in ${range}${orOff}, got ${value}`);
  if (Number.isInteger(p.step) && Number.isInteger(p.min) && !Number.isInteger(value))
    throw new ScenarioError(p.name, `must be a whole number in ${range}, got ${value}`);
  return value;
}

/**
 * Applies overrides (by parameter name) and a seed to a scenario. Unknown names are errors, so a
 * typo or a hostile key (`__proto__`) never passes silently. The result is validated again,
 * because some combinations (p99 below the median) are only wrong together.
 */
export function resolveRun(
  scenario: LoadedScenario,
  overrides: Readonly<Record<string, unknown>> = {},
  seed: unknown = DEFAULT_SEED,
  options: { faults?: unknown } = {},
): RunSpec {
  const byName = new Map(scenario.parameters.map((p) => [p.name, p]));
  const params: Record<string, number | string> = Object.create(null);
  for (const p of scenario.parameters) params[p.name] = p.default;
  for (const name of Object.keys(overrides)) {
    const p = byName.get(name);
    if (!p) {
      const known = scenario.parameters.map((q) => q.name).join(', ');
      throw new ScenarioError(
        name.slice(0, 60),
        `is not a parameter of ${scenario.id}; known: ${known || 'none'}`,
      );
    }
    params[name] = parseParameterValue(p, overrides[name]);
  }
  // Scenario data is plain JSON, so a JSON round trip is a deep copy.
  const copy = JSON.parse(
    JSON.stringify({
      ...scenario,
      parameters: scenario.parameters.map(({ default: _, ...decl }) => decl),
    }),
  ) as Record<string, unknown>;
  for (const p of scenario.parameters) writePath(copy, p.path, params[p.name]);
  if (options.faults !== undefined) {
    // A fault schedule replaces the scenario's own (cluster scenarios only); the schema checks it.
    if (scenario.model !== 'cluster')
      throw new ScenarioError(
        'faults',
        `${scenario.id} has no fault schedule (cluster scenarios do)`,
      );
    (copy.topology as Record<string, unknown>).faults = options.faults;
  }
  const parsed = scenarioSchema.safeParse(copy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join('.');
    const p = scenario.parameters.find((q) => q.path === path);
    if (p) throw new ScenarioError(p.name, `${issue.message} (${path} = ${params[p.name]})`);
    throw describeIssue(scenario.id, issue);
  }
  return {
    scenario: { ...parsed.data, parameters: scenario.parameters } as LoadedScenario,
    seed: parseSeed(seed),
    params: { ...params },
  };
}
