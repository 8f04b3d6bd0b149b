// Playground log reducers: gap and duplicate detection, counters, wasted share, the capped list and labels.
import { describe, expect, it } from 'vitest';
import type { Update } from '../../src/app/playground/clients/types.ts';
import {
  checkSeqs,
  clockLabel,
  emptyCounters,
  gapSize,
  LOG_CAP,
  meanLatencyMs,
  prependCapped,
  receive,
  seqLabel,
  wastedShare,
} from '../../src/app/playground/log.ts';

const u = (seq: number): Update => ({
  id: seq * 10,
  seq,
  channel: 0,
  createdUs: seq * 1e6,
  from: 'server',
  price: 100,
  bytes: 80,
});

describe('checkSeqs', () => {
  it('takes the first update seen as the baseline (a client may join late)', () => {
    expect(checkSeqs(0, [7, 8])).toEqual({ lastSeq: 8, fresh: [7, 8], duplicates: 0 });
  });

  it('reports a jump as a gap of lost updates', () => {
    const check = checkSeqs(4, [5, 9, 10]);
    expect(check.missed).toEqual({ from: 6, to: 8 });
    expect(gapSize(check.missed)).toBe(3);
    expect(check.lastSeq).toBe(10);
  });

  it('counts repeats and stale updates as duplicates, not as news', () => {
    const check = checkSeqs(5, [4, 5, 6, 6]);
    expect(check.fresh).toEqual([6]);
    expect(check.duplicates).toBe(3);
    expect(check.missed).toBeUndefined();
  });
});

describe('receive', () => {
  const createdAt = (seq: number) => (seq === 3 ? undefined : seq * 100);

  it('counts responses, empty ones, updates, bytes and latency', () => {
    let c = emptyCounters();
    ({ counters: c } = receive(c, [], 2, 0, createdAt, true));
    ({ counters: c } = receive(c, [], 2, 0, createdAt, true));
    const r = receive(c, [u(1), u(2)], 160, 400, createdAt, true);
    c = r.counters;
    expect(c).toMatchObject({
      responses: 3,
      emptyResponses: 2,
      updates: 2,
      bytes: 164,
      lastSeq: 2,
    });
    expect(wastedShare(c)).toBeCloseTo(2 / 3);
    // Latencies: 400 - 100 and 400 - 200.
    expect(meanLatencyMs(c)).toBe(250);
    expect(c.maxLatencyMs).toBe(300);
    expect(r.entry.latencyMs).toBe(200);
    expect(r.entry.seqs).toEqual([1, 2]);
  });

  it('pushed messages are not responses; an unknown creation time gives no latency', () => {
    const { counters, entry } = receive(emptyCounters(), [u(3)], 80, 900, createdAt, false);
    expect(counters.responses).toBe(0);
    expect(counters.updates).toBe(1);
    expect(counters.latencyCount).toBe(0);
    expect(entry.latencyMs).toBeUndefined();
    expect(wastedShare(counters)).toBeNaN();
  });

  it('records a gap on the entry and in the counters', () => {
    let c = receive(emptyCounters(), [u(1)], 80, 0, createdAt, false).counters;
    const r = receive(c, [u(4)], 80, 0, createdAt, false);
    c = r.counters;
    expect(r.entry.missed).toEqual({ from: 2, to: 3 });
    expect(c.missed).toBe(2);
    expect(c.updates).toBe(2);
  });
});

describe('prependCapped', () => {
  it('puts the newest first and keeps at most the cap', () => {
    const list = prependCapped([3, 2, 1], [4, 5]);
    expect(list).toEqual([5, 4, 3, 2, 1]);
    const big = prependCapped(
      [],
      Array.from({ length: LOG_CAP + 20 }, (_, i) => i),
    );
    expect(big).toHaveLength(LOG_CAP);
    expect(big[0]).toBe(LOG_CAP + 19);
  });

  it('returns the same array when nothing is added (no needless re-render)', () => {
    const list = [1];
    expect(prependCapped(list, [])).toBe(list);
  });
});

describe('labels', () => {
  it('seqLabel is compact', () => {
    expect(seqLabel([])).toBe('');
    expect(seqLabel([4])).toBe('#4');
    expect(seqLabel([4, 5, 6])).toBe('#4–#6');
    expect(seqLabel([4, 6])).toBe('#4, #6');
    expect(seqLabel([1, 3, 5, 7, 9])).toBe('#1 … #9 (5)');
  });

  it('clockLabel shows time of day with milliseconds', () => {
    const at = new Date(2024, 0, 2, 3, 4, 5, 67).getTime();
    expect(clockLabel(at)).toBe('03:04:05.067');
  });
});
