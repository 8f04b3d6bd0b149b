// The scenario registry: every file in simulations/ is listed, valid and loads with its defaults.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import { getScenario, listScenarios } from '../../src/scenario/registry.ts';
import { loadScenario } from '../../src/scenario/resolve.ts';
import twoHop from '../../simulations/two-hop.ts';

const DIR = join(import.meta.dirname, '..', '..', 'simulations');

describe('scenario registry', () => {
  it('lists every scenario file in simulations/ and simulations/cases/ exactly once', () => {
    const ids = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
        .map((f) => f.replace(/\.ts$/, ''));
    const files = [...ids(DIR), ...ids(join(DIR, 'cases'))].sort();
    expect(
      listScenarios()
        .map((s) => s.id)
        .sort(),
    ).toEqual(files);
  });

  it('gives each parameter a default inside its range, read from the scenario itself', () => {
    for (const s of listScenarios()) {
      for (const p of s.parameters) {
        if (p.kind === 'number' && p.off && p.default === 'off') {
          continue;
        } else if (p.kind === 'number') {
          expect(p.default, `${s.id}.${p.name}`).toBeGreaterThanOrEqual(p.min);
          expect(p.default, `${s.id}.${p.name}`).toBeLessThanOrEqual(p.max);
        } else {
          expect(p.options).toContain(p.default);
        }
      }
    }
    expect(getScenario('two-hop-1m').parameters.find((p) => p.name === 'users')?.default).toBe(
      1_000_000,
    );
  });

  it('rejects an invalid scenario file with the field and the rule', () => {
    const bad = (patch: object) => () => loadScenario({ ...twoHop, ...patch } as typeof twoHop);
    expect(bad({ id: 'Not Kebab' })).toThrow(/id: must be kebab-case/);
    expect(bad({ durationS: -1 })).toThrow(ScenarioError);
    expect(bad({ topology: { ...twoHop.topology, users: 0 } })).toThrow(/topology\.users/);
    expect(
      bad({
        topology: {
          ...twoHop.topology,
          links: {
            ...twoHop.topology.links,
            serverToUser: { ...twoHop.topology.links.serverToUser, lossProbability: 2 },
          },
        },
      }),
    ).toThrow(/topology\.links\.serverToUser\.lossProbability/);
    expect(bad({ extra: 1 })).toThrow(ScenarioError);
  });

  it('rejects a parameter whose path does not hold a value in range', () => {
    const param = twoHop.parameters[1];
    expect(() =>
      loadScenario({ ...twoHop, parameters: [{ ...param, path: 'topology.nothing' }] }),
    ).toThrow(/users: path topology.nothing is not a number/);
    expect(() =>
      loadScenario({ ...twoHop, parameters: [{ ...param, max: 10 }] as typeof twoHop.parameters }),
    ).toThrow(/default 1000 is outside \[1, 10\]/);
  });
});
