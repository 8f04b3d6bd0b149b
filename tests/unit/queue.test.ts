// The event queue pops in (time, insertion sequence) order, whatever the interleaving.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/queue.ts';

type Op = { push: number } | { pop: true };

describe('EventQueue', () => {
  it('pops events in (time, sequence) order for any interleaving of pushes and pops', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 50 }) }),
      fc.constant({ pop: true as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops: Op[]) => {
        const q = new EventQueue(16);
        // The reference: a list kept sorted by (time, seq).
        const ref: { t: number; seq: number }[] = [];
        let seq = 0;
        for (const o of ops) {
          if ('push' in o) {
            q.push(o.push, seq, 1000 - seq);
            ref.push({ t: o.push, seq: seq++ });
            ref.sort((a, b) => a.t - b.t || a.seq - b.seq);
          } else {
            const expected = ref.shift();
            expect(q.pop()).toBe(expected !== undefined);
            if (expected) {
              expect([q.time, q.word0, q.word1]).toEqual([
                expected.t,
                expected.seq,
                1000 - expected.seq,
              ]);
            }
          }
          expect(q.size).toBe(ref.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grows past its initial capacity without losing events', () => {
    const q = new EventQueue(16);
    for (let i = 0; i < 10_000; i++) q.push((i * 7919) % 1000, i, 0);
    let last = -1;
    let lastSeq = -1;
    let n = 0;
    while (q.pop()) {
      expect(q.time > last || (q.time === last && q.word0 > lastSeq)).toBe(true);
      last = q.time;
      lastSeq = q.word0;
      n++;
    }
    expect(n).toBe(10_000);
    expect(q.peekTime()).toBe(Infinity);
  });
});
