// A fan-out scenario loaded and resolved by the shared loader, typed as the fan-out model reads it.
import { ScenarioError } from '../../../scenario/errors.ts';
import type { FanoutScenarioFile, LoadedFanoutScenario } from '../../../scenario/fanout-schema.ts';
import { loadScenario, resolveRun, type LoadedScenario } from '../../../scenario/resolve.ts';
import type { ScenarioFile } from '../../../scenario/schema.ts';

/** A run of a fan-out scenario: the resolved scenario, its seed and every parameter's value. */
export interface FanoutRunSpec {
  scenario: LoadedFanoutScenario;
  seed: number;
  params: Record<string, number | string>;
}

function asFanout(s: LoadedScenario): LoadedFanoutScenario {
  if (s.model !== 'fanout')
    throw new ScenarioError('scenario', `${s.id} is not a fan-out scenario`);
  return s as unknown as LoadedFanoutScenario;
}

/** Validates a fan-out scenario file with the shared loader (field-named errors). */
export function loadFanoutScenario(file: FanoutScenarioFile): LoadedFanoutScenario {
  return asFanout(loadScenario(file as ScenarioFile));
}

/** Applies overrides and a seed with the shared resolver. */
export function resolveFanoutRun(
  scenario: LoadedFanoutScenario,
  overrides: Readonly<Record<string, unknown>> = {},
  seed: unknown = 1,
): FanoutRunSpec {
  const run = resolveRun(scenario as unknown as LoadedScenario, overrides, seed);
  return { ...run, scenario: asFanout(run.scenario) };
}
