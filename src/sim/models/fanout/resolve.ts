// Loads and resolves a fan-out scenario the way loadScenario/resolveRun do, until the shared union lists the model.
import { ScenarioError } from '../../../scenario/errors.ts';
import {
  fanoutScenarioSchema,
  type FanoutScenarioFile,
  type LoadedFanoutScenario,
} from '../../../scenario/fanout-schema.ts';
import { DEFAULT_SEED, parseParameterValue, parseSeed } from '../../../scenario/resolve.ts';
import type { Parameter } from '../../../scenario/schema.ts';

/** A run of a fan-out scenario: the resolved scenario, its seed and every parameter's value. */
export interface FanoutRunSpec {
  scenario: LoadedFanoutScenario;
  seed: number;
  params: Record<string, number | string>;
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

/** Validates a fan-out scenario file; throws ScenarioError naming the first bad field. */
export function loadFanoutScenario(file: FanoutScenarioFile): LoadedFanoutScenario {
  const id = typeof file?.id === 'string' ? file.id : 'scenario';
  const parsed = fanoutScenarioSchema.safeParse(file);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScenarioError([id, ...issue.path.map(String)].join('.'), issue.message);
  }
  const scenario = parsed.data;
  const seen = new Set<string>();
  const parameters = scenario.parameters.map((p): Parameter => {
    const field = `${id}.parameters.${p.name}`;
    if (seen.has(p.name)) throw new ScenarioError(field, 'is declared twice');
    seen.add(p.name);
    const value = readPath(scenario, p.path);
    if (p.kind === 'number') {
      if (typeof value !== 'number')
        throw new ScenarioError(field, `path ${p.path} is not a number`);
      if (value < p.min || value > p.max)
        throw new ScenarioError(field, `default ${value} is outside [${p.min}, ${p.max}]`);
      return { ...p, default: value };
    }
    if (typeof value !== 'string' || !p.options.includes(value))
      throw new ScenarioError(field, `path ${p.path} holds none of ${p.options.join(', ')}`);
    return { ...p, default: value };
  });
  // Every override a claim names is a parameter with an allowed value (as loadScenario checks).
  const claimIds = new Set<string>();
  for (const claim of scenario.claims) {
    const field = `${id}.claims.${claim.id}`;
    if (claimIds.has(claim.id)) throw new ScenarioError(field, 'is declared twice');
    claimIds.add(claim.id);
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
  return { ...scenario, parameters };
}

/**
 * Applies overrides (by parameter name; unknown names are errors) and a seed, then validates
 * again: some values are only wrong together (`onlineShare` above `activeShare`).
 */
export function resolveFanoutRun(
  scenario: LoadedFanoutScenario,
  overrides: Readonly<Record<string, unknown>> = {},
  seed: unknown = DEFAULT_SEED,
): FanoutRunSpec {
  const byName = new Map(scenario.parameters.map((p) => [p.name, p]));
  const params: Record<string, number | string> = Object.create(null);
  for (const p of scenario.parameters) params[p.name] = p.default;
  for (const name of Object.keys(overrides)) {
    const p = byName.get(name);
    if (!p) {
      const known = scenario.parameters.map((q) => q.name).join(', ');
      throw new ScenarioError(
        name.slice(0, 60),
        `is not a parameter of ${scenario.id}; known: ${known}`,
      );
    }
    params[name] = parseParameterValue(p, overrides[name]);
  }
  const copy = JSON.parse(
    JSON.stringify({
      ...scenario,
      parameters: scenario.parameters.map(({ default: _, ...decl }) => decl),
    }),
  ) as Record<string, unknown>;
  for (const p of scenario.parameters) writePath(copy, p.path, params[p.name]);
  const parsed = fanoutScenarioSchema.safeParse(copy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join('.');
    const p = scenario.parameters.find((q) => q.path === path);
    if (p) throw new ScenarioError(p.name, `${issue.message} (${path} = ${params[p.name]})`);
    throw new ScenarioError([scenario.id, ...issue.path.map(String)].join('.'), issue.message);
  }
  return {
    scenario: { ...parsed.data, parameters: scenario.parameters },
    seed: parseSeed(seed),
    params: { ...params },
  };
}
