// Validated scenarios by id, loaded once from simulations/ (the UI, CLI and tests all read this).
import { scenarioFiles } from '../../simulations/index.ts';
import { ScenarioError } from './errors.ts';
import { loadScenario, type LoadedScenario } from './resolve.ts';

let cache: Map<string, LoadedScenario> | undefined;

function all(): Map<string, LoadedScenario> {
  if (!cache) {
    cache = new Map();
    for (const file of scenarioFiles) {
      const scenario = loadScenario(file);
      if (cache.has(scenario.id)) throw new ScenarioError(scenario.id, 'id is used twice');
      cache.set(scenario.id, scenario);
    }
  }
  return cache;
}

export function listScenarios(): LoadedScenario[] {
  return [...all().values()];
}

export function getScenario(id: string): LoadedScenario {
  const scenario = all().get(id);
  if (!scenario) {
    const known = [...all().keys()].join(', ');
    throw new ScenarioError(
      'scenario',
      `unknown scenario ${JSON.stringify(id.slice(0, 60))}; known: ${known}`,
    );
  }
  return scenario;
}
