// Browser tests of the protocol playground: real requests through msw's service worker, ordered logs, SSE resume.
import { expect, test, type Locator, type Page } from '@playwright/test';

const PROTOCOLS = ['polling', 'long-polling', 'sse', 'websocket'] as const;
type Protocol = (typeof PROTOCOLS)[number];

async function openPlayground(page: Page): Promise<void> {
  await page.goto('./?view=playground');
  await expect(page.getByTestId('playground')).toHaveAttribute('data-phase', 'ready', {
    timeout: 30_000,
  });
}

function counter(page: Page, name: string, p: Protocol): Locator {
  return page.getByTestId(`pg-${name}-${p}`);
}

async function value(locator: Locator): Promise<number> {
  return Number(await locator.getAttribute('data-value'));
}

/** Waits until a counter reaches at least `min`. */
async function waitFor(locator: Locator, min: number, timeout = 20_000): Promise<void> {
  await expect.poll(() => value(locator), { timeout }).toBeGreaterThanOrEqual(min);
}

/** Every sequence number in a protocol's log, oldest first (the log shows newest first). */
async function loggedSeqs(page: Page, p: Protocol): Promise<number[]> {
  const lists = await page
    .getByTestId(`pg-log-${p}`)
    .locator('li[data-seqs]')
    .evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.seqs ?? ''));
  return lists
    .reverse()
    .filter(Boolean)
    .flatMap((s) => s.split(',').map(Number));
}

function expectNoGaps(seqs: number[], label: string): void {
  expect(seqs.length, `${label} received updates`).toBeGreaterThan(5);
  const gaps = seqs.flatMap((s, i) => (i > 0 && s !== seqs[i - 1] + 1 ? [[seqs[i - 1], s]] : []));
  expect(gaps, `${label}: consecutive sequence numbers`).toEqual([]);
}

test('real polling, long-polling, SSE and WebSocket traffic, in order, and an SSE drop resumes with no gap', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const requests: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname + new URL(r.url()).search;
    if (path.includes('/api/')) requests.push(path);
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await openPlayground(page);
  await expect(page.getByTestId('pg-seed')).toHaveText('1');
  await expect(page.getByTestId('pg-devtools-note')).toContainText('DevTools');

  // A short poll interval against ~5 updates/s (0.5/s at 10×) guarantees some empty polls.
  await page.getByTestId('pg-speed-10').click();
  await expect(page.getByTestId('pg-speed-10')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('pg-interval').selectOption('250');
  await page.getByTestId('pg-start-all').click();
  for (const p of PROTOCOLS)
    await expect(page.getByTestId(`pg-toggle-${p}`)).toHaveAttribute('aria-pressed', 'true');

  for (const p of PROTOCOLS) await waitFor(counter(page, 'updates', p), 12);
  await waitFor(counter(page, 'empty', 'polling'), 1);

  // Real requests left the page (answered by msw's service worker).
  expect(requests.some((r) => /^\/api\/poll\?since=\d+$/.test(r))).toBe(true);
  expect(requests.some((r) => /^\/api\/long-poll\?since=\d+$/.test(r))).toBe(true);
  expect(requests.some((r) => r.startsWith('/api/stream'))).toBe(true);
  const polls = requests.filter((r) => r.startsWith('/api/poll')).length;
  expect(await value(counter(page, 'requests', 'polling'))).toBeGreaterThanOrEqual(polls - 1);

  // Drop the SSE stream: the browser reconnects by itself and the server replays what it missed.
  const streamsBefore = requests.filter((r) => r.startsWith('/api/stream')).length;
  const sseBefore = await value(counter(page, 'updates', 'sse'));
  await page.getByTestId('pg-drop-sse').click();
  await waitFor(counter(page, 'reconnects', 'sse'), 1);
  await waitFor(counter(page, 'updates', 'sse'), sseBefore + 8);
  expect(requests.filter((r) => r.startsWith('/api/stream')).length).toBeGreaterThan(streamsBefore);
  await expect(page.getByTestId('pg-log-sse')).toContainText('server resumes after #');
  expect(await value(counter(page, 'missed', 'sse'))).toBe(0);

  // The published feed and what each protocol received agree: in order, nothing missing.
  for (const p of PROTOCOLS) expectNoGaps(await loggedSeqs(page, p), p);
  for (const p of ['polling', 'long-polling'] as const) {
    const entries = page.getByTestId(`pg-log-${p}`).locator('li[data-kind="response"]');
    await expect(entries.first()).toContainText('200');
  }
  const empty = await value(counter(page, 'empty', 'polling'));
  expect(empty).toBeGreaterThan(0);
  await expect(page.getByTestId('pg-counters-polling')).toContainText('wasted');

  // A WebSocket drop, by contrast, loses what was published while it reconnected.
  await page.getByTestId('pg-drop-websocket').click();
  await waitFor(counter(page, 'reconnects', 'websocket'), 1, 10_000);
  await waitFor(counter(page, 'missed', 'websocket'), 1, 10_000);
  await expect(page.getByTestId('pg-log-websocket').locator('li.gap').first()).toContainText(
    'lost #',
  );

  // A message sent up the WebSocket is published to every protocol.
  await page.getByTestId('pg-ws-input').fill('hello from the test');
  await page.getByTestId('pg-ws-send').click();
  for (const p of PROTOCOLS)
    await expect(page.getByTestId(`pg-log-${p}`)).toContainText('hello from the test', {
      timeout: 10_000,
    });

  // Stop all: the feed pauses and no more requests go out.
  await page.getByTestId('pg-stop-all').click();
  await expect(page.getByTestId('pg-feed-status')).toContainText('paused');
  await page.waitForTimeout(300);
  const settled = requests.length;
  await page.waitForTimeout(1_000);
  expect(requests.length).toBe(settled);
  expect(errors).toEqual([]);
});

test('same seed, same feed: the first updates repeat after a reload', async ({ page }) => {
  const firstPrices = async () => {
    await openPlayground(page);
    await page.getByTestId('pg-toggle-websocket').click();
    await waitFor(counter(page, 'updates', 'websocket'), 4);
    const text = await page.getByTestId('pg-log-websocket').innerText();
    const bySeq = new Map<number, string>();
    for (const m of text.matchAll(/#(\d+) · (price [\d.]+|client \d+: [^\n]+)/g))
      bySeq.set(Number(m[1]), m[2].trim());
    return bySeq;
  };
  const a = await firstPrices();
  const b = await firstPrices();
  const common = [...a.keys()].filter((k) => b.has(k));
  expect(common.length).toBeGreaterThan(2);
  for (const k of common) expect(b.get(k)).toBe(a.get(k));
});

test('without service workers the playground explains what to do', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined });
  });
  await page.goto('./?view=playground');
  const problem = page.getByTestId('pg-problem');
  await expect(problem).toBeVisible({ timeout: 20_000 });
  await expect(problem).toContainText('service worker');
  await expect(problem).toContainText('localhost');
});

test('screenshots of the playground', async ({ page }) => {
  test.skip(!process.env.SHOTS, 'set SHOTS=1 to take screenshots');
  const dir = process.env.SHOTS_DIR ?? '/tmp/shots';
  await openPlayground(page);
  await page.getByTestId('pg-interval').selectOption('500');
  await page.getByTestId('pg-start-all').click();
  await waitFor(counter(page, 'updates', 'sse'), 15);
  await page.getByTestId('pg-drop-sse').click();
  await page.getByTestId('pg-drop-websocket').click();
  await waitFor(counter(page, 'reconnects', 'websocket'), 1);
  await page.waitForTimeout(2_500);
  await page.getByTestId('pg-card-polling').locator('details summary').click();
  await page.screenshot({ path: `${dir}/playground-1280.png` });
  await page.screenshot({ path: `${dir}/playground-1280-full.png`, fullPage: true });
  await page.setViewportSize({ width: 700, height: 900 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${dir}/playground-700-full.png`, fullPage: true });
  await page.getByTestId('pg-stop-all').click();
});
