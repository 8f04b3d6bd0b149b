// The run as URL query parameters: ?scenario=two-hop&seed=7&users=2000 (only non-defaults are written).
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
export const RESERVED_QUERY_KEYS = ['scenario', 'seed', 'embed', 'view', 'arms', 'faults'] as const;

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
  return query.toString();
}
