// The pure core stays pure: banned APIs in src/sim and src/scenario, each with its replacement.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PURE_DIRS = ['src/sim', 'src/scenario', 'simulations'];

/** Each banned pattern and what to use instead. */
const BANNED: { pattern: RegExp; use: string }[] = [
  { pattern: /\bMath\.random\b/, use: 'a stream forked from the run’s Rng' },
  { pattern: /\bDate\.now\b|\bnew Date\b/, use: 'the simulated clock (nowUs)' },
  { pattern: /\bperformance\.now\b/, use: 'the simulated clock; shells may time wall clock' },
  {
    pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask|requestAnimationFrame)\b/,
    use: 'an event on the EventQueue',
  },
  {
    pattern: /\b(document|window|navigator|localStorage|postMessage)\b/,
    use: 'the app or worker shell',
  },
  { pattern: /\bprocess\.|\brequire\(/, use: 'the CLI shell' },
  { pattern: /from ['"](node:|fs|path|os|worker_threads)/, use: 'the CLI shell' },
  { pattern: /from ['"](svelte|d3|comlink)/, use: 'src/app or src/worker' },
  {
    pattern: /from ['"][^'"]*\/(app|worker|cli|bridge)\//,
    use: 'a dependency the other way round',
  },
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.ts$/.test(name) ? [path] : [];
  });
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

/**
 * Blanks template literals that span lines (scenario prose), keeping their line breaks so line
 * numbers still match: prose about a "batch window" is not a use of `window`.
 */
function stripMultilineTemplates(source: string): string {
  return source.replace(/`(?:[^`\\]|\\.)*`/g, (t) =>
    t.includes('\n') ? t.replace(/[^\n]/g, ' ') : t,
  );
}

/** Blanks the contents of string literals, so prose like 'Recovery window' is not code. */
function stripStrings(line: string): string {
  return line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

describe('tidy', () => {
  it('finds the pure folders and their files', () => {
    const all = PURE_DIRS.flatMap((d) => files(join(ROOT, d)));
    expect(all.length).toBeGreaterThan(10);
  });

  for (const dir of PURE_DIRS) {
    it(`${dir} uses no clock, randomness, timers, DOM, Node or UI library`, () => {
      const problems: string[] = [];
      for (const file of files(join(ROOT, dir))) {
        const lines = stripMultilineTemplates(stripComments(readFileSync(file, 'utf8'))).split(
          '\n',
        );
        lines.forEach((line, i) => {
          for (const { pattern, use } of BANNED)
            if (pattern.test(pattern.source.includes('from') ? line : stripStrings(line)))
              problems.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}  → use ${use}`);
        });
      }
      expect(problems).toEqual([]);
    });
  }

  it('the banned patterns do catch what they ban', () => {
    const hits = (s: string) => BANNED.filter((b) => b.pattern.test(s)).length;
    expect(hits('const x = Math.random();')).toBe(1);
    expect(hits('const t = performance.now();')).toBe(1);
    expect(hits("import * as d3 from 'd3';")).toBe(1);
    expect(hits("import { readFileSync } from 'node:fs';")).toBe(1);
    expect(hits('setTimeout(f, 0);')).toBe(1);
    expect(hits('const x = rng.float();')).toBe(0);
    expect(hits(stripStrings("label: 'Recovery window',"))).toBe(0);
    expect(hits(stripStrings('const w = window.innerWidth;'))).toBe(1);
  });

  it('every source file opens with a one-line comment saying what it is', () => {
    const missing = ['src', 'simulations', 'tests']
      .flatMap((d) => files(join(ROOT, d)))
      .filter((f) => !readFileSync(f, 'utf8').startsWith('//'))
      .map((f) => relative(ROOT, f));
    expect(missing).toEqual([]);
  });
});
