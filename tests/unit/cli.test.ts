// The command line: list, run --json with the documented fields, compare (protocols, scenarios, --arm A/B) and one-line errors for bad input.
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
    expect(out.results.map((r: { arm: string }) => r.arm)).toEqual(['sse', 'websocket']);
    expect(out.noiseSeeds).toHaveLength(3);
    expect(out.differences.map((d: { key: string }) => d.key)).toContain('bidirectional');
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

describe('hoplab compare --arm (A/B)', () => {
  const ab = ['compare', 'two-hop', '--arm', 'a:users=500', '--arm', 'b:users=1000'];
  const rerun = `rerun: npm run hoplab -- ${ab.join(' ')} --seed 1 --noise-seeds 1`;

  it('prints {seed, results with arm and overrides, differences}; each arm is its own run', async () => {
    const { code, stdout, stderr } = await hoplab(...ab, '--json', '--noise-seeds', '1');
    expect(code, `${stderr}\n${rerun}`).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.seed).toBe(1);
    expect(out.noiseSeeds).toHaveLength(1);
    expect(out.results.map((r: { arm: string }) => r.arm)).toEqual(['a', 'b']);
    expect(out.results.map((r: { overrides: object }) => r.overrides)).toEqual([
      { users: 500 },
      { users: 1000 },
    ]);
    for (const r of out.results) expect(r.seed, rerun).toBe(1);
    const [a, b] = out.results.map((r: { traceHash: string }) => r.traceHash);
    expect(a, rerun).not.toBe(b);
    expect(out.differences.length).toBeGreaterThan(5);
    for (const d of out.differences) {
      expect(['win', 'tie'], `${d.key}: ${d.why}\n${rerun}`).toContain(d.outcome);
      expect(d.values).toHaveLength(2);
      expect(d.spreads).toHaveLength(2);
      expect(typeof d.why).toBe('string');
    }
    const delivered = out.differences.find((d: { key: string }) => d.key === 'delivered');
    expect(delivered, rerun).toMatchObject({ outcome: 'win', winners: ['b'], better: 'higher' });
    // Each arm is exactly the plain run with its overrides.
    for (const [users, hash] of [
      ['500', a],
      ['1000', b],
    ]) {
      const one = JSON.parse(
        (await hoplab('run', 'two-hop', '--set', `users=${users}`, '--json')).stdout,
      );
      expect(one.traceHash, `users=${users}\n${rerun}`).toBe(hash);
    }
  });

  it('prints the table with the better side, the noise seeds, why, and a rerun line that reproduces it', async () => {
    const first = await hoplab(...ab, '--noise-seeds', '1', '--set', 'duration=5');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^noise seeds \d+: every arm also ran on them/m);
    expect(first.stdout).toMatch(/^\s+a\s+b\s+better$/m);
    expect(first.stdout).toMatch(/^Delivered\s+[\d,]+\s+[\d,]+\s+b$/m);
    expect(first.stdout).toMatch(/^overrides\s+users=500\s+users=1000$/m);
    expect(first.stdout).toMatch(/^why$/m);
    const line = first.stdout.match(/^rerun: npm run hoplab -- (.*)$/m)![1];
    expect(line).toBe(
      'compare two-hop --seed 1 --set duration=5 --arm a:users=500 --arm b:users=1000 --noise-seeds 1',
    );
    const again = await hoplab(...line.split(' '));
    expect(again.stdout).toBe(first.stdout);
  });

  it('with --noise-seeds 0 says there is no noise estimate', async () => {
    const { stdout } = await hoplab(...ab, '--noise-seeds', '0', '--set', 'duration=2');
    expect(stdout).toContain('no noise estimate (--noise-seeds 0)');
  });

  it('allows an arm with no overrides: the scenario as it is', async () => {
    const { code, stdout } = await hoplab(
      'compare',
      'two-hop',
      '--arm',
      'base:',
      '--arm',
      'more:users=2000',
      '--set',
      'duration=2',
      '--noise-seeds',
      '0',
      '--json',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.results[0]).toMatchObject({ arm: 'base', overrides: {} });
    const plain = JSON.parse(
      (await hoplab('run', 'two-hop', '--set', 'duration=2', '--json')).stdout,
    );
    expect(out.results[0].traceHash).toBe(plain.traceHash);
  });

  // Each case is a separate process doing nothing but parsing: they run side by side.
  it.concurrent.each([
    [
      ['compare', 'two-hop', '--arm', 'a:', '--arm', 'b:users=0'],
      /^hoplab: arm b: users: must be in \[1, 2000000\] users, got 0$/,
    ],
    [
      ['compare', 'two-hop', '--arm', 'a:nope=1', '--arm', 'b:'],
      /^hoplab: arm a: nope: is not a parameter of two-hop/,
    ],
    [
      ['compare', 'two-hop', '--arm', 'a:users=1,users=2', '--arm', 'b:'],
      /^hoplab: arm a: users: is set twice$/,
    ],
    [['compare', 'two-hop', '--arm', 'a:'], /^hoplab: --arm: compare 2 to 6 arms, got 1$/],
    [
      ['compare', 'two-hop', '--arm', 'a:', '--arm', 'a:'],
      /^hoplab: --arm: arm a is listed twice$/,
    ],
    [
      ['compare', 'two-hop', '--arm', 'Big:', '--arm', 'b:'],
      /^hoplab: --arm: arm name "Big" must be/,
    ],
    [
      ['compare', 'two-hop', '--arm', 'a', '--arm', 'b:'],
      /^hoplab: --arm: expected name:key=value/,
    ],
    [
      ['compare', 'two-hop', 'sse', '--arm', 'a:', '--arm', 'b:'],
      /^hoplab: --arm: arms compare variants of one scenario; got 2 scenario ids$/,
    ],
    [['compare', 'protocols', '--arm', 'a:', '--arm', 'b:'], /^hoplab: arm a: protocol: is all/],
    [['run', 'two-hop', '--arm', 'a:'], /^hoplab: --arm: only `compare` takes arms$/],
    [['compare', 'two-hop', '--seed', '1', '--seed', '2'], /^hoplab: --seed: is given twice$/],
    [['run', 'two-hop', '--json', '--json'], /^hoplab: --json: is given twice$/],
    [
      ['compare', 'two-hop', '--noise-seeds', '1', '--noise-seeds', '2'],
      /^hoplab: --noise-seeds: is given twice$/,
    ],
    [['run', 'two-hop', '--seed', '-5'], /^hoplab: --seed: expected a value, got "-5"/],
    [['run', 'two-hop', '--duration=-1'], /^hoplab: --duration: expected a value, got "-1"/],
    [['compare', 'two-hop', '--arm', '--json'], /^hoplab: --arm: expected a value, got "--json"/],
    [['run', 'two-hop', '--seed'], /^hoplab: --seed: expected a value$/],
    [
      ['compare', 'two-hop', '--noise-seeds', '11'],
      /^hoplab: --noise-seeds: must be a whole number from 0 to 10/,
    ],
  ])('%j exits with code 2 and a one-line reason naming the field', async (args, message) => {
    const { code, stdout, stderr } = await hoplab(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
  });
});

describe('hoplab run and claims for shaped scenarios', () => {
  it('run --json adds the shaping figures the interface names', async () => {
    const { code, stdout } = await hoplab(
      'run',
      'priority-queues',
      '--duration',
      '2',
      '--set',
      'users=500',
      '--json',
    );
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    for (const k of [
      'messagesPerSecPerUser',
      'bytesPerSecPerUser',
      'staleness',
      'savedByStage',
      'resyncs',
      'perClass',
    ])
      expect(r.shaping, k).toHaveProperty(k);
    expect(Object.keys(r.shaping.perClass)).toEqual(['P0', 'P1', 'P2', 'P3']);
    expect(r.shaping.staleness).toHaveProperty('p99Ms');
    expect(r.bytesPerUpdate.protobuf).toBeLessThan(r.bytesPerUpdate.json);
  });

  it('claims --json measures every claim and says whether it holds; a scenario without claims is refused', async () => {
    const { code, stdout } = await hoplab('claims', 'compression', '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.claims.length).toBeGreaterThanOrEqual(5);
    for (const c of out.claims) {
      expect(['holds', 'does-not-hold']).toContain(c.verdict);
      expect(typeof c.measured).toBe('number');
      expect(c.runs.length).toBeGreaterThan(0);
    }
    const bridge = await hoplab('bridge', 'batching', '--duration', '2');
    expect(bridge.code).toBe(2);
    expect(bridge.stderr).toMatch(
      /^hoplab: shaping: the bridge does not reproduce update shaping \(batching/m,
    );
    const none = await hoplab('claims', 'two-hop');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^hoplab: scenario: two-hop states no claims/m);
  });
});
