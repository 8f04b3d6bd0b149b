// Bar-chart geometry: one shared scale from zero, room for value labels, no bar for missing values.
import { describe, expect, it } from 'vitest';
import { barLayout, VALUE_ROOM } from '../../src/app/viz/bars.ts';

describe('barLayout', () => {
  const items = [
    { key: 'a', label: 'A', value: 100 },
    { key: 'b', label: 'B', value: 50 },
    { key: 'c', label: 'C', value: NaN },
  ];
  it('scales bars from zero to the largest value and keeps room for the label', () => {
    const l = barLayout(items, 400, 120, 80);
    expect(l.plotW).toBe(400 - 80 - VALUE_ROOM);
    expect(l.bars[0].w).toBeCloseTo(l.plotW);
    expect(l.bars[1].w).toBeCloseTo(l.plotW / 2);
    expect(l.bars[2].w).toBe(0);
    expect(l.bars[0].textX).toBe(l.bars[0].w + 6);
  });
  it('stacks bars top to bottom without overlap', () => {
    const l = barLayout(items, 400, 120);
    for (let i = 1; i < l.bars.length; i++)
      expect(l.bars[i].y).toBeGreaterThanOrEqual(l.bars[i - 1].y + l.bars[i - 1].h);
    expect(l.bars.at(-1)!.y + l.bars.at(-1)!.h).toBeLessThanOrEqual(120);
  });
  it('draws a visible sliver for tiny positive values and nothing when all are zero', () => {
    const l = barLayout(
      [
        { key: 'x', label: 'X', value: 0 },
        { key: 'y', label: 'Y', value: 0 },
      ],
      300,
      60,
    );
    expect(l.bars.every((b) => b.w === 0)).toBe(true);
    const t = barLayout(
      [
        { key: 'x', label: 'X', value: 1e-6 },
        { key: 'y', label: 'Y', value: 1 },
      ],
      300,
      60,
    );
    expect(t.bars[0].w).toBe(2);
  });
});
