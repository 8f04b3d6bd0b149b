// Overrides, seeds and URL parameters: anything malformed fails with a field-named error, and nothing leaks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import { getScenario, listScenarios } from '../../src/scenario/registry.ts';
import { parseSeed, resolveRun } from '../../src/scenario/resolve.ts';
import { queryFromRun, runFromQuery } from '../../src/scenario/url.ts';

const scenario = getScenario('two-hop');
const names = scenario.parameters.map((p) => p.name);
const hostileKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' users',
  'users.x',
];
const hostileValues: unknown[] = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '1e308',
  '9'.repeat(400),
  '0x10',
  '1_000',
  '--1',
  null,
  undefined,
  {},
  [],
  [1],
  true,
  { valueOf: () => 5 },
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.NaN,
  '<script>alert(1)</script>',
];

function expectFieldError(fn: () => unknown, fields: string[]): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    const err = e as ScenarioError;
    expect(
      fields.some((f) => err.field.startsWith(f)),
      `${err.field}: ${err.message}`,
    ).toBe(true);
    // One line, even when it lists every scenario id (about 30 of them).
    expect(err.message.length).toBeLessThan(700);
    return;
  }
  throw new Error('expected a ScenarioError');
}

describe('parameter overrides', () => {
  it('accept both ends of every declared range', () => {
    // The hop-1 p99 must stay at or above the median, so the pair moves together at the ends.
    const partner: Record<string, string> = {
      hop1LatencyMs: 'hop1LatencyMsP99',
      hop1LatencyMsP99: 'hop1LatencyMs',
    };
    for (const p of scenario.parameters) {
      const values = p.kind === 'choice' ? p.options : [p.min, p.max];
      for (const v of values) {
        const o: Record<string, unknown> = { [p.name]: v };
        if (partner[p.name]) o[partner[p.name]] = v;
        expect(resolveRun(scenario, o).params[p.name]).toBe(v);
      }
    }
  });

  it('reject out-of-range, malformed and hostile values with an error naming the parameter', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.oneof(
          fc.constantFrom(...hostileValues),
          fc.string(),
          fc.double(),
          fc.integer({ min: -1e12, max: -1 }),
          fc.integer({ min: 2_000_000, max: 1e15 }),
        ),
        (name, value) => {
          const p = scenario.parameters.find((q) => q.name === name)!;
          let ok = true;
          try {
            resolveRun(scenario, { [name]: value });
          } catch (e) {
            ok = false;
            expect(e).toBeInstanceOf(ScenarioError);
            // A median above the default p99 is reported on the p99, its partner.
            const allowed = name === 'hop1LatencyMs' ? [name, 'hop1LatencyMsP99'] : [name];
            expect(allowed).toContain((e as ScenarioError).field);
          }
          if (ok) {
            // Only a value the parameter really allows may pass.
            const v = Number(value);
            if (p.kind === 'number') expect(v >= p.min && v <= p.max).toBe(true);
            else expect(p.options).toContain(value);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('reject unknown and hostile keys, and never pollute prototypes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ minLength: 1 })),
        fc.string(),
        (key, value) => {
          fc.pre(!names.includes(key));
          const overrides = JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`);
          expectFieldError(() => resolveRun(scenario, overrides), [key.slice(0, 60)]);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.prototype).not.toHaveProperty('users');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('report combinations that are only wrong together by parameter name', () => {
    expectFieldError(
      () => resolveRun(scenario, { hop1LatencyMs: 500, hop1LatencyMsP99: 90 }),
      ['hop1LatencyMsP99'],
    );
  });
});

describe('seeds', () => {
  it('accept integers from 0 to 2^32-1 and reject everything else', () => {
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed(4_294_967_295)).toBe(4_294_967_295);
    for (const bad of ['-1', '4294967296', '1.5', 'abc', '', '1e3', null, {}, '99999999999'])
      expectFieldError(() => parseSeed(bad), ['seed']);
  });
});

describe('URL parameters', () => {
  it('round-trip: the URL written for a run reads back as the same run', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...listScenarios().map((s) => s.id)),
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.integer({ min: 1, max: 3_600 }),
        (id, seed, duration) => {
          const run = resolveRun(getScenario(id), { duration }, seed);
          const back = runFromQuery(`?${queryFromRun(run)}`);
          expect(back.scenario.id).toBe(id);
          expect(back.seed).toBe(seed);
          expect(back.params).toEqual(run.params);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('name the bad URL parameter', () => {
    expectFieldError(() => runFromQuery('?scenario=nope'), ['scenario']);
    expectFieldError(() => runFromQuery('?seed=x'), ['seed']);
    expectFieldError(() => runFromQuery('?users=-5'), ['users']);
    expectFieldError(() => runFromQuery('?users=5&users=6'), ['users']);
    expectFieldError(() => runFromQuery('?__proto__[x]=1'), ['__proto__']);
    expectFieldError(() => runFromQuery(`?${'a'.repeat(10_000)}=1`), ['a']);
  });

  it('fuzzed query strings either resolve or fail with a ScenarioError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (search) => {
        try {
          runFromQuery(search);
        } catch (e) {
          expect(e).toBeInstanceOf(ScenarioError);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
