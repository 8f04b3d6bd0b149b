// The command line: list, run --json with the documented fields, and one-line errors for bad input.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const exec = promisify(execFile);

async function hoplab(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('hoplab CLI', () => {
  it('lists the scenarios', async () => {
    const { code, stdout } = await hoplab('list');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^two-hop /m);
    expect(stdout).toMatch(/^two-hop-1m /m);
  });

  it('run --json prints one object with the documented fields, reproducibly', async () => {
    const args = [
      'run',
      'two-hop',
      '--seed',
      '7',
      '--set',
      'users=300',
      '--duration',
      '5',
      '--json',
    ];
    const a = await hoplab(...args);
    expect(a.code).toBe(0);
    const r = JSON.parse(a.stdout);
    for (const key of [
      'scenario',
      'seed',
      'params',
      'simulatedSeconds',
      'events',
      'wallMs',
      'eventsPerSec',
      'traceHash',
      'latencyMs',
      'produced',
      'delivered',
      'dropped',
      'duplicated',
      'outOfOrder',
    ])
      expect(r, key).toHaveProperty(key);
    for (const key of ['p50', 'p90', 'p99', 'p999', 'max'])
      expect(r.latencyMs[key]).toBeGreaterThan(0);
    expect(r).toMatchObject({ scenario: 'two-hop', seed: 7, simulatedSeconds: 5 });
    expect(r.params.users).toBe(300);
    expect(r.traceHash).toMatch(/^[0-9a-f]{16}$/);
    const b = JSON.parse((await hoplab(...args)).stdout);
    expect(b.traceHash).toBe(r.traceHash);
  });

  it('run without --json prints a readable summary with the rerun command', async () => {
    const { code, stdout } = await hoplab('run', 'two-hop', '--seed', '3', '--duration', '2');
    expect(code).toBe(0);
    expect(stdout).toMatch(/end-to-end latency\s+p50 [\d.]+/);
    expect(stdout).toContain(
      'rerun                  npm run hoplab -- run two-hop --seed 3 --set duration=2',
    );
  });

  it.each([
    [['run', 'two-hop', '--bogus'], /^hoplab: flags: Unknown option '--bogus'/],
    [['run', 'two-hop', '--seed', 'x'], /^hoplab: seed: must be an integer/],
    [
      ['run', 'two-hop', '--set', 'users=0'],
      /^hoplab: users: must be in \[1, 2000000\] users, got 0/,
    ],
    [['run', 'two-hop', '--set', 'nope=1'], /^hoplab: nope: is not a parameter of two-hop/],
    [['run', 'two-hop', '--set', 'users'], /^hoplab: --set: expected name=value/],
    [['run', 'nothing'], /^hoplab: scenario: unknown scenario "nothing"/],
    [['run'], /^hoplab: scenario: expected exactly one scenario id/],
    [['frobnicate'], /^hoplab: command: unknown command/],
  ])('%j exits non-zero with a one-line reason', async (args, message) => {
    const { code, stdout, stderr } = await hoplab(...args);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe('hoplab compare', () => {
  it('runs scenarios on one seed and prints {seed, results} with the protocol fields', async () => {
    const { code, stdout } = await hoplab(
      'compare',
      'sse',
      'websocket',
      '--seed',
      '5',
      '--duration',
      '20',
      '--json',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.seed).toBe(5);
    expect(out.results.map((r: { protocol: string }) => r.protocol)).toEqual(['sse', 'websocket']);
    for (const r of out.results) {
      for (const key of [
        'requestsPerDelivered',
        'wastedRequestShare',
        'wireBytesPerDelivered',
        'serverConnectionsPeak',
        'serverMemoryMB',
        'batteryMahPerHour',
      ])
        expect(r, key).toHaveProperty(key);
      expect(r.seed).toBe(5);
    }
  });

  it('expands a protocol scenario set to all into five arms, the same as running each', async () => {
    const all = JSON.parse(
      (await hoplab('compare', 'protocols', '--seed', '3', '--duration', '10', '--json')).stdout,
    );
    expect(all.results.map((r: { protocol: string }) => r.protocol)).toEqual([
      'polling',
      'long-polling',
      'sse',
      'websocket',
      'webrtc',
    ]);
    const one = JSON.parse(
      (
        await hoplab(
          'run',
          'protocols',
          '--seed',
          '3',
          '--duration',
          '10',
          '--set',
          'protocol=sse',
          '--json',
        )
      ).stdout,
    );
    expect(one.traceHash).toBe(all.results[2].traceHash);
    const table = await hoplab('run', 'protocols', '--seed', '3', '--duration', '10');
    expect(table.stdout).toMatch(/Latency p50\s+[\d,.]+ ms\s+[\d,.]+ ms/);
    expect(table.stdout).toMatch(/Bidirectional\s+yes\s+yes\s+no\s+yes\s+yes/);
  });
});
