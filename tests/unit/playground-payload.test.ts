// Playground payloads: the update JSON is padded to the simulator's size and says its own length.
import { describe, expect, it } from 'vitest';
import { buildPayload, cleanText, utf8Bytes } from '../../src/app/playground/payload.ts';

const base = { id: 12, seq: 3, channel: 0, createdUs: 1_234_567.4, from: 'server' as const };

describe('buildPayload', () => {
  it.each([110, 120, 200, 999, 1_000, 1_001, 4_096])(
    'pads a price update to %i bytes exactly',
    (size) => {
      const { update, json } = buildPayload({ ...base, price: 101.25, payloadBytes: size });
      expect(json.length).toBe(size);
      expect(update.bytes).toBe(size);
      expect(JSON.parse(json)).toEqual(update);
      expect(update).toMatchObject({
        id: 12,
        seq: 3,
        channel: 0,
        createdUs: 1_234_567,
        price: 101.25,
      });
    },
  );

  it('never truncates: a payload smaller than the bare object is as long as it must be', () => {
    const { update, json } = buildPayload({ ...base, text: 'hello there', payloadBytes: 10 });
    expect(update.pad).toBeUndefined();
    expect(update.bytes).toBe(json.length);
    expect(json.length).toBeGreaterThan(10);
    expect(update.text).toBe('hello there');
    const small = buildPayload({ ...base, price: 1, payloadBytes: 80 });
    expect(small.json.length).toBeGreaterThanOrEqual(80);
    expect(small.update.bytes).toBe(small.json.length);
  });

  it('keeps text ASCII and short so byte counts stay honest', () => {
    expect(cleanText('  héllo\nworld  ')).toBe('h?llo?world');
    expect(cleanText('x'.repeat(500))).toHaveLength(140);
    const { json } = buildPayload({ ...base, from: 'you', text: 'naïve ☃', payloadBytes: 1 });
    expect(utf8Bytes(json)).toBe(json.length);
  });
});

describe('utf8Bytes', () => {
  it('counts UTF-8 bytes', () => {
    expect(utf8Bytes('abc')).toBe(3);
    expect(utf8Bytes('é')).toBe(2);
    expect(utf8Bytes('☃')).toBe(3);
    expect(utf8Bytes('😀')).toBe(4);
  });
});
