// Browser tests of the comparison view (protocols and A/B arms of any scenario), the single-protocol view, the decision wizard and the header navigation.
import { execFileSync } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
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

/** Waits until every arm has also run on the noise seeds and the verdicts are final. */
async function noiseFinal(page: Page): Promise<void> {
  await expect(page.getByTestId('noise-status')).toHaveAttribute('data-state', 'final', {
    timeout: 90_000,
  });
}

test('the comparison shows five measured columns, marks the best cells and matches the CLI per arm', async ({
  page,
}) => {
  test.setTimeout(150_000);
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
  // Best cells wait for the noise estimate, then follow the tie rule: the lowest p50 and whatever
  // is within its noise are marked, each below every unmarked one; polling (seconds) never is.
  await noiseFinal(page);
  await expect(page.getByTestId('noise-status')).toContainText(/noise from seeds \d+, \d+, \d+/);
  const cells = await page
    .getByTestId('row-latencyP50')
    .locator('td')
    .evaluateAll((tds) =>
      tds.map((td) => ({
        value: Number(td.getAttribute('data-value')),
        best: td.getAttribute('data-best') === 'true',
      })),
    );
  const best = cells.filter((c) => c.best).map((c) => c.value);
  const rest = cells.filter((c) => !c.best).map((c) => c.value);
  const rerun = 'rerun: npm run hoplab -- compare protocols --seed 7 --set duration=20';
  expect(best, rerun).toContain(Math.min(...cells.map((c) => c.value)));
  expect(Math.max(...best), rerun).toBeLessThan(Math.min(...rest));
  await expect(lab.cell('latencyP50', 'polling')).toHaveAttribute('data-best', 'false');
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

// ——— A/B comparisons of any scenario ———

/** The CLI's per-arm traceHashes for an A/B comparison (each arm is its plain run). */
function cliArmHashes(scenario: string, sets: string[], arms: string[], seed = 1): string[] {
  const args = ['tsx', 'src/cli/main.ts', 'compare', scenario, '--seed', String(seed)];
  for (const set of sets) args.push('--set', set);
  for (const arm of arms) args.push('--arm', arm);
  const out = execFileSync('npx', [...args, '--noise-seeds', '0', '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return (JSON.parse(out) as { results: { traceHash: string }[] }).results.map((r) => r.traceHash);
}

test('an A/B comparison of a fleet scenario opens from its URL, matches the CLI per arm and judges every row', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const query = '?view=compare&scenario=redis-pubsub&duration=20&ab=redis:;kafka:broker=kafka';
  const rerun =
    'rerun: npm run hoplab -- compare redis-pubsub --seed 1 --set duration=20 --arm redis: --arm kafka:broker=kafka';
  const lab = new LabPage(page);
  await lab.open(query);
  await expect(page.getByTestId('nav-compare')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('arm-editor')).toBeVisible();
  expect(await lab.armLabels()).toEqual(['redis', 'kafka']);
  await lab.runToEnd();
  const hashes = [await lab.armHash('redis'), await lab.armHash('kafka')];
  expect(hashes[0], rerun).not.toBe(hashes[1]);
  expect(hashes, rerun).toEqual(
    cliArmHashes('redis-pubsub', ['duration=20'], ['redis:', 'kafka:broker=kafka']),
  );
  // One line per arm in every overlaid chart.
  for (const chart of ['chart-compare-p50', 'chart-compare-p99', 'chart-compare-deliveries'])
    await expect(page.getByTestId(chart).getByTestId('chart-line')).toHaveCount(2);
  // The fleet model keeps no hop-1 bytes per interval: a note points to the table's row instead.
  await expect(page.getByTestId('chart-compare-bytes-note')).toBeVisible();

  // The verdicts fill in once the noise seeds have run: a winner or a tie on every row.
  await noiseFinal(page);
  const verdicts = page.locator('[data-testid^="diff-verdict-"]');
  expect(await verdicts.count()).toBeGreaterThan(6);
  for (const outcome of await verdicts.evaluateAll((els) =>
    els.map((e) => `${e.getAttribute('data-testid')}=${e.getAttribute('data-outcome')}`),
  ))
    expect(outcome, rerun).toMatch(/=(win|tie)$/);
  // Kafka's batching and replication cost it a few milliseconds on every seed.
  await expect(page.getByTestId('diff-verdict-latencyP50')).toHaveAttribute(
    'data-winners',
    'redis',
  );
  await expect(page.getByTestId('diff-verdict-lost')).toHaveAttribute('data-outcome', 'tie');

  await page.screenshot({ path: 'test-results/compare-ab-1280.png', fullPage: true });
  await page.setViewportSize({ width: 700, height: 900 });
  await page.screenshot({ path: 'test-results/compare-ab-700.png', fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // A reload reproduces every arm.
  await page.reload();
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  await lab.runToEnd();
  expect([await lab.armHash('redis'), await lab.armHash('kafka')], rerun).toEqual(hashes);
});

test('the arm editor adds an arm and sets its parameters; the URL holds every arm', async ({
  page,
}) => {
  const lab = new LabPage(page);
  await lab.open('?view=compare&scenario=two-hop&duration=5&ab=a:;b:users=500');
  await page.getByTestId('arm-add').click();
  await expect(page).toHaveURL(/ab=a:;b:users=500;c:(&|$)/);
  // Edits reload after the input settles: wait for the new arm's column.
  await expect.poll(() => lab.armLabels(), { timeout: 30_000 }).toEqual(['a', 'b', 'c']);

  // Keyboard only: pick a parameter for arm c, type a bad value, then a good one.
  await page.getByTestId('arm-add-2').focus();
  await page.getByTestId('arm-add-2').selectOption('users');
  const users = page.getByTestId('arm-2-users');
  await users.fill('0');
  await users.press('Enter');
  await expect(page.getByTestId('arm-2-users-error')).toContainText('must be in [1, 2000000]');
  await users.fill('2000');
  await users.press('Enter');
  await expect(page.getByTestId('arm-2-users-error')).toHaveCount(0);
  await expect(page).toHaveURL(/ab=a:;b:users=500;c:users=2000(&|$)/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });

  // A taken name is refused; a new one renames the arm everywhere.
  const name = page.getByTestId('arm-name-2');
  await name.fill('b');
  await name.press('Enter');
  await expect(page.getByTestId('arm-card-2')).toContainText('arm b is listed twice');
  await name.fill('big');
  await name.press('Enter');
  await expect(page).toHaveURL(/;big:users=2000(&|$)/);
  await expect.poll(() => lab.armLabels(), { timeout: 30_000 }).toEqual(['a', 'b', 'big']);

  await page.getByTestId('arm-remove-0').click();
  await expect(page).toHaveURL(/ab=b:users=500;big:users=2000(&|$)/);
  await expect(page.getByTestId('arm-remove-0')).toBeDisabled();
  await expect.poll(() => lab.armLabels(), { timeout: 30_000 }).toEqual(['b', 'big']);

  // From the lab, the header's Compare link opens this scenario's A/B comparison.
  await lab.open('?scenario=two-hop&duration=5');
  await page.getByTestId('nav-compare').click();
  await expect(page).toHaveURL(/view=compare/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  expect(await lab.armLabels()).toEqual(['a', 'b']);
  // Two plain arms are the same run: every row ties; the two-hop model draws hop-1 bytes/s.
  await lab.runToEnd();
  await noiseFinal(page);
  expect(await lab.armHash('a')).toBe(await lab.armHash('b'));
  await expect(page.locator('[data-testid^="diff-verdict-"][data-outcome="tie"]')).toHaveCount(
    await page.locator('[data-testid^="diff-verdict-"]').count(),
  );
  await expect(page.getByTestId('chart-compare-bytes').getByTestId('chart-line')).toHaveCount(2);
});

test('a bad ab value in the URL names the field', async ({ page }) => {
  const lab = new LabPage(page);
  for (const [ab, field, message] of [
    ['a:users=0;b:', 'arm a: users', 'must be in [1, 2000000] users, got 0'],
    ['a:nope=1;b:', 'arm a: nope', 'is not a parameter of two-hop'],
    ['a:users=1,users=2;b:', 'arm a: users', 'is set twice'],
    ['a', 'ab', 'expected name:key=value'],
    ['a:', 'ab', 'compare 2 to 6 arms, got 1'],
    ['a:;a:', 'ab', 'arm a is listed twice'],
  ]) {
    await lab.open(`?view=compare&scenario=two-hop&ab=${ab}`, { expectReady: false });
    await expect(page.getByTestId('error-field'), ab).toHaveText(field);
    await expect(lab.error, ab).toContainText(message);
  }
  await lab.open('?view=compare&scenario=two-hop&ab=a:&ab=b:', { expectReady: false });
  await expect(page.getByTestId('error-field')).toHaveText('ab');
  await expect(lab.error).toContainText('appears twice in the URL');
});
