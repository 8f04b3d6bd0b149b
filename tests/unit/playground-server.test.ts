// Playground server side: the numbered log, long-poll holds, subscribers, endpoints and the support check.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endpointsFor } from '../../src/app/playground/handlers.ts';
import { FeedServer, jsonArray, KEEP_RECORDS, MAX_BATCH } from '../../src/app/playground/server.ts';
import { supportProblem } from '../../src/app/playground/support.ts';

const input = (id: number) => ({
  id,
  channel: 0,
  createdUs: id * 1_000,
  from: 'server' as const,
  price: 100 + id,
  payloadBytes: 120,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('FeedServer', () => {
  it('numbers updates 1, 2, 3 and answers polls with what came after `since`', () => {
    const server = new FeedServer();
    expect(server.after(0)).toEqual([]);
    for (let i = 0; i < 5; i++) server.publish(input(i), i);
    expect(server.latestSeq).toBe(5);
    expect(server.after(0).map((r) => r.update.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(server.after(3).map((r) => r.update.seq)).toEqual([4, 5]);
    expect(server.after(5)).toEqual([]);
    expect(server.after(99)).toEqual([]);
    expect(server.after(Number.NaN).length).toBe(5);
    expect(server.record(2)?.update.price).toBe(101);
    expect(server.record(2)?.json.length).toBe(120);
    expect(JSON.parse(jsonArray(server.after(3)))).toHaveLength(2);
  });

  it('caps a batch and forgets the oldest records beyond what it keeps', () => {
    const server = new FeedServer();
    const n = Math.ceil(KEEP_RECORDS * 1.25) + 10;
    for (let i = 0; i < n; i++) server.publish(input(i), i);
    expect(server.after(0)).toHaveLength(MAX_BATCH);
    expect(server.oldestSeq).toBeGreaterThan(1);
    expect(server.oldestSeq).toBeLessThanOrEqual(n - KEEP_RECORDS + 1);
    expect(server.after(0)[0].update.seq).toBe(server.oldestSeq);
    expect(server.record(1)).toBeUndefined();
    expect(server.record(n)?.update.seq).toBe(n);
  });

  it('holds a long poll until news arrives', async () => {
    vi.useFakeTimers();
    const server = new FeedServer();
    server.publish(input(0), 0);
    const held = server.waitAfter(1);
    expect(server.heldPolls).toBe(1);
    vi.advanceTimersByTime(5_000);
    server.publish(input(1), 1);
    const records = await held;
    expect(records.map((r) => r.update.seq)).toEqual([2]);
    expect(server.heldPolls).toBe(0);
  });

  it('answers a long poll at once when there is news, and empty after the hold', async () => {
    vi.useFakeTimers();
    const server = new FeedServer();
    server.holdMs = 10_000;
    server.publish(input(0), 0);
    expect((await server.waitAfter(0)).length).toBe(1);
    const held = server.waitAfter(1);
    vi.advanceTimersByTime(9_999);
    expect(server.heldPolls).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await held).toEqual([]);
    expect(server.heldPolls).toBe(0);
  });

  it('releases held polls on abort and on releaseAll, so nothing hangs', async () => {
    vi.useFakeTimers();
    const server = new FeedServer();
    const controller = new AbortController();
    const a = server.waitAfter(0, controller.signal);
    const b = server.waitAfter(0);
    controller.abort();
    expect(await a).toEqual([]);
    server.releaseAll();
    expect(await b).toEqual([]);
    expect(server.heldPolls).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('hands each new update to subscribers until they unsubscribe; reset starts over', () => {
    const server = new FeedServer();
    const seen: number[] = [];
    const off = server.subscribe((r) => seen.push(r.update.seq));
    server.publish(input(0), 0);
    server.publish(input(1), 1);
    off();
    server.publish(input(2), 2);
    expect(seen).toEqual([1, 2]);
    server.subscribe(() => undefined);
    server.reset();
    expect(server.subscriberCount).toBe(0);
    expect(server.latestSeq).toBe(0);
    expect(server.publish(input(3), 3).update.seq).toBe(1);
  });
});

describe('endpointsFor', () => {
  it('resolves against the page, under any base path, with a ws: or wss: socket', () => {
    expect(endpointsFor('http://127.0.0.1:4173/?view=playground')).toEqual({
      poll: 'http://127.0.0.1:4173/api/poll',
      longPoll: 'http://127.0.0.1:4173/api/long-poll',
      stream: 'http://127.0.0.1:4173/api/stream',
      socket: 'ws://127.0.0.1:4173/socket',
    });
    const e = endpointsFor('https://example.org/labs/hoplab/index.html?view=playground#x');
    expect(e.poll).toBe('https://example.org/labs/hoplab/api/poll');
    expect(e.socket).toBe('wss://example.org/labs/hoplab/socket');
  });
});

describe('supportProblem', () => {
  const ok = { isSecureContext: true, serviceWorker: true, eventSource: true, webSocket: true };

  it('is null when everything is there', () => {
    expect(supportProblem(ok)).toBeNull();
  });

  it('tells the reader to use https or localhost on an insecure page', () => {
    const p = supportProblem({ ...ok, isSecureContext: false, serviceWorker: false });
    expect(p?.message).toMatch(/https/);
    expect(p?.message).toMatch(/localhost/);
  });

  it('explains a missing service worker and missing EventSource', () => {
    expect(supportProblem({ ...ok, serviceWorker: false })?.title).toMatch(/service worker/i);
    expect(supportProblem({ ...ok, eventSource: false })?.title).toMatch(/EventSource/);
  });
});
