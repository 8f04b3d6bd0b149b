// The comparison table's helpers: best cells per row, units, dashes before the first delivery, and the URL's arms choice.
import { describe, expect, it } from 'vitest';
import { bestIndices, formatCell, shownMatrix } from '../../src/app/compare/matrix.ts';
import { splitQuery, viewHref } from '../../src/app/query.ts';
import { ScenarioError } from '../../src/scenario/errors.ts';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { armsOf } from '../../src/sim/compare.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import { armsText, parseArms } from '../../src/worker/arms.ts';

describe('bestIndices', () => {
  it('picks the lowest or highest, keeps ties, ignores missing values', () => {
    expect(bestIndices([3, 1, 2], 'lower')).toEqual([1]);
    expect(bestIndices([3, 1, 3], 'higher')).toEqual([0, 2]);
    expect(bestIndices([null, 5, NaN, 4], 'lower')).toEqual([3]);
  });
  it('marks nothing when every value is equal, for yes/no rows, or with one value', () => {
    expect(bestIndices([1000, 1000, 1000], 'lower')).toEqual([]);
    expect(bestIndices([true, false], 'none')).toEqual([]);
    expect(bestIndices([null, 7], 'lower')).toEqual([]);
  });
});

describe('formatCell', () => {
  it('writes the unit last', () => {
    expect(formatCell(76.74, 'ms')).toBe('76.7 ms');
    expect(formatCell(2674.69, 'ms')).toBe('2.67 s');
    expect(formatCell(0.7784, 'share')).toBe('78%');
    expect(formatCell(0.0024, 'share')).toBe('0.24%');
    expect(formatCell(1354.13, 'B')).toBe('1,354 B');
    expect(formatCell(31.25, 'MB')).toBe('31.3 MB');
    expect(formatCell(187.01, 'mAh/h')).toBe('187 mAh/h');
    expect(formatCell(4.23, '')).toBe('4.23');
    expect(formatCell(1000, '')).toBe('1,000');
    expect(formatCell(true, '')).toBe('yes');
    expect(formatCell(null, 'ms')).toBe('–');
  });
});

describe('shownMatrix', () => {
  it('measures every arm and dashes figures that need deliveries before the first one', async () => {
    const run = resolveRun(getScenario('protocols'), { duration: 10 }, 7);
    const arms = armsOf(run);
    const fresh = [];
    const done = [];
    for (const arm of arms) {
      const sim = await createSimulation(arm.run);
      fresh.push(sim.result(0));
      sim.runUntil(sim.durationUs);
      done.push(sim.result(1));
      sim.dispose();
    }
    const before = shownMatrix(fresh);
    expect(before.find((r) => r.key === 'latencyP50')!.cells.every((c) => c.text === '–')).toBe(
      true,
    );
    const after = shownMatrix(done);
    const p50 = after.find((r) => r.key === 'latencyP50')!;
    expect(p50.cells).toHaveLength(5);
    expect(p50.cells.filter((c) => c.best)).toHaveLength(1);
    const bidi = after.find((r) => r.key === 'bidirectional')!;
    expect(bidi.cells.map((c) => c.text)).toEqual(['yes', 'yes', 'no', 'yes', 'yes']);
    expect(bidi.cells.some((c) => c.best)).toBe(false);
  });
});

describe('the URL: view and arms', () => {
  const run = resolveRun(getScenario('protocols'), {}, 1);
  it('splits the page keys from the run', () => {
    const q = splitQuery('?scenario=protocols&arms=sse,websocket&seed=3');
    expect(q).toEqual({
      view: 'lab',
      arms: 'sse,websocket',
      runSearch: 'scenario=protocols&seed=3',
    });
    expect(splitQuery('?view=wizard').view).toBe('wizard');
    expect(() => splitQuery('?view=nope')).toThrow(ScenarioError);
    expect(viewHref('/lab/', 'wizard')).toBe('/lab/?view=wizard');
    expect(viewHref('/lab/', 'lab', true)).toBe('/lab/?embed=1');
  });
  it('parses arms in the core order and names the field when they are bad', () => {
    expect(parseArms('websocket,sse', run)).toEqual(['sse', 'websocket']);
    for (const bad of ['sse', 'sse,sse', 'sse,pigeon', ''])
      expect(() => parseArms(bad, run), bad).toThrow(/^arms: /);
    const single = resolveRun(getScenario('sse'), {}, 1);
    expect(() => parseArms('sse,websocket', single)).toThrow(/only a comparison/);
    expect(armsText(run, ['sse', 'websocket'])).toBe('sse,websocket');
    expect(armsText(run, ['polling', 'long-polling', 'sse', 'websocket', 'webrtc'])).toBe('');
  });
});
