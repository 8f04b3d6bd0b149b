// Browser tests of the comparison view, the single-protocol view, the decision wizard and the header navigation.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { LabPage } from './lab-page.ts';

const ALL = ['polling', 'long-polling', 'sse', 'websocket', 'webrtc'];

const cliHashes = new Map<string, string>();

/** The CLI's traceHash for one protocol of the comparison (cached: each run costs seconds). */
function cliHash(protocol: string, seed: number, durationS: number): string {
  const key = `${protocol}/${seed}/${durationS}`;
  const cached = cliHashes.get(key);
  if (cached) return cached;
  const out = execFileSync(
    'npx',
    [
      'tsx',
      'src/cli/main.ts',
      'run',
      'protocols',
      '--set',
      `protocol=${protocol}`,
      '--set',
      `duration=${durationS}`,
      '--seed',
      String(seed),
      '--json',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const hash = (JSON.parse(out) as { traceHash: string }).traceHash;
  cliHashes.set(key, hash);
  return hash;
}

test('the comparison shows five measured columns, marks the best cells and matches the CLI per arm', async ({
  page,
}) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=protocols&seed=7&duration=20');
  await expect(page.getByTestId('nav-compare')).toHaveAttribute('aria-current', 'page');
  expect(await lab.armLabels()).toEqual(ALL);
  await lab.runToEnd();
  for (const arm of ALL) {
    await expect(lab.cell('latencyP50', arm)).toHaveText(/^[\d.,]+ m?s(\s\(best\))?$/);
    await expect(lab.cell('bytes', arm)).toHaveText(/^[\d,]+ B(\s\(best\))?$/);
    await expect(page.getByTestId(`arm-hash-${arm}`)).toHaveText(/^[0-9a-f]{16}$/);
  }
  // Exactly one best p50 (ties are unlikely on a drawn population), and it is the lowest.
  const p50 = page.getByTestId('row-latencyP50').locator('td[data-best="true"]');
  await expect(p50).toHaveCount(1);
  const values = await page
    .getByTestId('row-latencyP50')
    .locator('td')
    .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
  expect(Number(await p50.getAttribute('data-value'))).toBe(Math.min(...values));
  await expect(lab.cell('bidirectional', 'sse')).toHaveText('no');
  await expect(page.getByTestId('guide-rows')).toContainText('not computed');
  // Charts: one line per protocol in each latency chart, one bar per protocol.
  await expect(page.getByTestId('chart-compare-p50').getByTestId('chart-line')).toHaveCount(5);
  await expect(page.getByTestId('bars-bytes').getByTestId('bar')).toHaveCount(5);
  // The same seed and duration run alone in the CLI gives the arm's hash.
  expect(await lab.armHash('sse')).toBe(cliHash('sse', 7, 20));
});

test('choosing two protocols rebuilds them on the same seed and the URL reproduces the choice', async ({
  page,
}) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=protocols&seed=7&duration=20');
  for (const arm of ['polling', 'long-polling', 'webrtc']) {
    await page.getByTestId(`arm-${arm}`).uncheck();
    await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  }
  await expect(page).toHaveURL(/[?&]arms=sse%2Cwebsocket(&|$)|[?&]arms=sse,websocket(&|$)/);
  expect(await lab.armLabels()).toEqual(['sse', 'websocket']);
  // Two left: neither can be unticked.
  await expect(page.getByTestId('arm-sse')).toBeDisabled();
  await lab.runToEnd();
  const sse = await lab.armHash('sse');
  expect(sse).toBe(cliHash('sse', 7, 20));
  const websocket = await lab.armHash('websocket');

  await page.reload();
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  expect(await lab.armLabels()).toEqual(['sse', 'websocket']);
  await expect(page.getByTestId('arm-polling')).not.toBeChecked();
  await lab.runToEnd();
  expect(await lab.armHash('sse')).toBe(sse);
  expect(await lab.armHash('websocket')).toBe(websocket);

  // Keyboard: tick polling back on with Space.
  await page.getByTestId('arm-polling').focus();
  await page.keyboard.press('Space');
  await expect(page).toHaveURL(/arms=polling/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  expect(await lab.armLabels()).toEqual(['polling', 'sse', 'websocket']);
});

test('a bad arms choice in the URL names the field', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=protocols&arms=sse,carrier-pigeon', { expectReady: false });
  await expect(page.getByTestId('error-field')).toHaveText('arms');
  await expect(lab.error).toContainText('carrier-pigeon');
  await lab.open('?scenario=sse&arms=sse,websocket', { expectReady: false });
  await expect(page.getByTestId('error-field')).toHaveText('arms');
  await lab.open('?view=nowhere', { expectReady: false });
  await expect(page.getByTestId('error-field')).toHaveText('view');
});

test('a single-protocol run shows its protocol panel and client–server topology', async ({
  page,
}) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=websocket&seed=3&duration=30');
  await expect(page.getByTestId('nav-lab')).toHaveAttribute('aria-current', 'page');
  await lab.runToEnd();
  const panel = page.getByTestId('protocol-panel');
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('WebSocket');
  await expect(page.getByTestId('protocol-requests')).toContainText(/\d/);
  await expect(page.getByTestId('protocol-bytes')).toContainText(/\d+ B/);
  await expect(page.getByTestId('protocol-guide')).toContainText('delivers in 10–100 ms');
  await expect(lab.topology).toHaveAttribute('aria-label', /WebSocket server/);
  await expect(page.getByTestId('matrix')).toHaveCount(0);

  await lab.open('?scenario=protocols&protocol=webrtc&seed=3&duration=10');
  await expect(lab.topology).toHaveAttribute('aria-label', /TURN relay/);
  await expect(page.getByTestId('protocol-relay')).toBeVisible();
});

test('the wizard leads to recommendations whose buttons open the matching runs', async ({
  page,
}) => {
  await page.goto('./?view=wizard');
  await expect(page.getByTestId('nav-wizard')).toHaveAttribute('aria-current', 'page');
  const next = page.getByTestId('wizard-next');

  // One-way, under 500 ms → SSE, through every step.
  await page.getByTestId('wizard-latency-under500ms').check();
  await next.click();
  await page.getByTestId('wizard-bidirectional-no').check();
  await next.click();
  await page.getByTestId('wizard-scale-under1k').check();
  await next.click();
  await page.getByTestId('wizard-infra-mobileFirst').check();
  await next.click();
  await page.getByTestId('wizard-failure-circuitBreakers').check();
  await next.click();
  await expect(page.getByTestId('wizard-choice')).toHaveAttribute('data-choice', 'sse');
  await expect(page.getByTestId('wizard-reason').first()).toContainText('Under 500 ms');
  await expect(page.getByTestId('wizard-tree').locator('[data-node="sse"]')).toHaveClass(/end/);
  await page.getByTestId('wizard-open').click();
  await expect(page).toHaveURL(/scenario=sse/);
  await expect(page).toHaveURL(/clients=500/);
  await expect(page).toHaveURL(/rttMs=150/);
  const lab = new LabPage(page);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  await expect(page.getByTestId('protocol-panel')).toBeVisible();

  // Two-way, under 50 ms, peer to peer → WebRTC; "compare" opens the candidates side by side.
  await page.goto('./?view=wizard');
  await page.getByTestId('wizard-latency-under50ms').check();
  await next.click();
  await page.getByTestId('wizard-bidirectional-yes').check();
  await page.getByTestId('wizard-p2p-yes').check();
  for (let i = 0; i < 4; i++) await next.click();
  await expect(page.getByTestId('wizard-choice')).toHaveAttribute('data-choice', 'webrtc');
  await page.getByTestId('wizard-compare').click();
  await expect(page).toHaveURL(/scenario=protocols/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  expect(await lab.armLabels()).toEqual(['websocket', 'webrtc']);

  // No real-time need → REST, straight from step 1, with the keyboard.
  await page.goto('./?view=wizard');
  await page.getByTestId('wizard-latency-none').focus();
  await page.keyboard.press('Space');
  await page.getByTestId('wizard-next').press('Enter');
  await expect(page.getByTestId('wizard-choice')).toHaveAttribute('data-choice', 'rest');
  await page.getByTestId('wizard-open').press('Enter');
  await expect(page).toHaveURL(/scenario=polling.*pollIntervalS=60/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
});

test('the header navigates between the views; the playground view never breaks the page', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('./?view=playground');
  await expect(page.getByTestId('nav-playground')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('playground-view')).toBeVisible();
  await expect(page.getByTestId('playground-view')).not.toContainText('Loading the playground', {
    timeout: 15_000,
  });
  await page.getByTestId('nav-compare').click();
  await expect(page).toHaveURL(/scenario=protocols/);
  await expect(page.getByTestId('matrix')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('nav-wizard').click();
  await expect(page.getByTestId('wizard')).toBeVisible();
  await page.getByTestId('nav-lab').click();
  await expect(page.getByTestId('topology')).toBeVisible();
  expect(errors).toEqual([]);
});
