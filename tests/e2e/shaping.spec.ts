// Browser tests of update shaping in the lab: the shaping panel's trade-off, off switches, the guide's figures checked in a worker, and screenshots (SHOTS=1).
import { expect, test, type Page } from '@playwright/test';
import { LabPage } from './lab-page.ts';

const dir = process.env.SHOTS_DIR ?? '/tmp/shots';

async function figure(page: Page, testid: string): Promise<number> {
  const value = await page.getByTestId(testid).getAttribute('data-value');
  expect(value, `${testid} has a value`).not.toBeNull();
  expect(value).not.toBe('');
  return Number(value);
}

test('batching trades bytes for staleness: a 0 ms window sends more bytes, fresher', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const lab = new LabPage(page);
  await lab.open('?scenario=batching&duration=5');
  await expect(page.getByTestId('shaping-panel')).toBeVisible();
  await expect(lab.topology).toHaveAttribute('data-stages', 'batching');
  await lab.runToEnd();
  const batchedBytes = await figure(page, 'shaping-bytes');
  const batchedStaleness = await figure(page, 'shaping-staleness-p50');
  expect(batchedBytes).toBeGreaterThan(0);
  await expect(page.getByTestId('shaping-batch-mean')).toHaveText(/^\d/);
  // The finished run's result brings bytes per update per encoding.
  await expect(page.getByTestId('shaping-encodings')).toBeVisible();

  await lab.setParam('batchWindowMs', '0');
  await expect(page).toHaveURL(/[?&]batchWindowMs=0(&|$)/);
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  await expect(lab.topology).toHaveAttribute('data-stages', '');
  await lab.runToEnd();
  const unbatchedBytes = await figure(page, 'shaping-bytes');
  const unbatchedStaleness = await figure(page, 'shaping-staleness-p50');
  expect(unbatchedBytes, 'bytes/s per user without batching').toBeGreaterThan(batchedBytes);
  expect(unbatchedStaleness, 'staleness p50 without batching').toBeLessThan(batchedStaleness);
});

test('a number that can be off loads off from the URL and switches from the keyboard', async ({
  page,
}) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=throttling&throttleHz=off&duration=3');
  const off = page.getByTestId('param-throttleHz-off');
  await expect(off).toBeChecked();
  await expect(page.getByTestId('param-throttleHz-off-state')).toBeVisible();
  await expect(page.getByTestId('param-throttleHz-slider')).toHaveCount(0);
  // Another off parameter of the same scenario stays as it was.
  await expect(page.getByTestId('param-connectionHz-off')).toBeChecked();

  await off.focus();
  await page.keyboard.press('Space');
  await expect(off).not.toBeChecked();
  await expect(page.getByTestId('param-throttleHz-slider')).toBeVisible();
  // Back on at the scenario's default (1 update/s), which the URL leaves out.
  await expect(page.getByTestId('param-throttleHz')).toHaveValue('1');
  await expect(page).not.toHaveURL(/throttleHz=/);
  await page.keyboard.press('Space');
  await expect(off).toBeChecked();
  await expect(page).toHaveURL(/[?&]throttleHz=off(&|$)/);
});

test('the guide’s figures are checked in a worker: a verdict and a measured figure per claim', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const lab = new LabPage(page);
  await lab.open('?scenario=compression&duration=2');
  const panel = page.getByTestId('claims-panel');
  const claims = panel.getByTestId('claim');
  await expect(claims).toHaveCount(6);
  await expect(claims.first()).toHaveAttribute('data-verdict', 'unchecked');
  await panel.getByTestId('claims-check').click();
  await expect(panel.getByTestId('claims-summary')).toBeVisible({ timeout: 150_000 });
  for (const claim of await claims.all()) {
    await expect(claim).toHaveAttribute('data-verdict', /^(holds|does-not-hold)$/);
    await expect(claim.getByTestId('claim-verdict')).toHaveText(/^(holds|does not hold)$/);
    await expect(claim.getByTestId('claim-measured')).toHaveText(/\d/);
    await expect(claim.getByTestId('claim-hash').first()).toHaveText(/^[0-9a-f]{8,}$/, {
      useInnerText: false,
    });
  }
  // The lab's own run was left alone: it is still ready to play.
  await expect(lab.phase).toHaveText('Ready');
  // A changed setting marks the figures as the earlier ones'; re-checking is the reader's call.
  await lab.setParam('users', '5000');
  await expect(panel.getByTestId('claims-stale')).toBeVisible();
  await expect(claims.first()).toHaveAttribute('data-verdict', /^(holds|does-not-hold)$/);
});

test('a check of the guide’s figures can be cancelled', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=priority-queues');
  const panel = page.getByTestId('claims-panel');
  await panel.getByTestId('claims-check').click();
  await expect(panel.getByTestId('claims-progress')).toHaveText(/run \d of \d/);
  await panel.getByTestId('claims-cancel').click();
  await expect(panel.getByText('Cancelled.')).toBeVisible();
  await expect(panel.getByTestId('claims-check')).toBeEnabled();
  await expect(panel.getByTestId('claim').first()).toHaveAttribute('data-verdict', 'unchecked');
});

/** Scrolls an element's top to just under the sticky header and toolbar. */
async function below(page: Page, testid: string): Promise<void> {
  await page.getByTestId(testid).evaluate((el) => {
    window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 130);
  });
}

/** The topology, the shaping panel and the claims card, each on its own (full pages repeat sticky bars). */
async function parts(page: Page, name: string): Promise<void> {
  // A tall window, so no panel is stitched together under the sticky toolbar.
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: size.width, height: 4000 });
  for (const testid of ['topology', 'shaping-panel', 'claims-panel'])
    await page.getByTestId(testid).screenshot({ path: `${dir}/${name}-${testid}.png` });
  await page.setViewportSize(size);
}

test.describe('screenshots', () => {
  test.skip(!process.env.SHOTS, 'set SHOTS=1 to take screenshots');

  for (const scenario of ['batching', 'priority-queues']) {
    test(`screenshots of ${scenario}`, async ({ page }) => {
      test.setTimeout(240_000);
      const lab = new LabPage(page);
      await page.setViewportSize({ width: 1280, height: 800 });
      await lab.open(`?scenario=${scenario}&seed=7&duration=8`);
      await page.screenshot({ path: `${dir}/${scenario}-1280-idle.png` });
      await lab.runToEnd(120_000);
      await below(page, 'shaping-panel');
      await page.screenshot({ path: `${dir}/${scenario}-1280-shaping.png` });
      await page.getByTestId('claims-panel').getByTestId('claims-check').click();
      await expect(page.getByTestId('claims-summary')).toBeVisible({ timeout: 200_000 });
      await below(page, 'claims-panel');
      await page.screenshot({ path: `${dir}/${scenario}-1280-claims.png` });
      await parts(page, `${scenario}-1280`);

      for (const embed of ['', '&embed=1']) {
        await page.setViewportSize({ width: 700, height: 900 });
        await lab.open(`?scenario=${scenario}&seed=7&duration=8${embed}`);
        await lab.runToEnd(120_000);
        const name = `${scenario}-700${embed ? '-embed' : ''}`;
        await page.getByTestId('claims-panel').getByTestId('claims-check').click();
        await expect(page.getByTestId('claims-summary')).toBeVisible({ timeout: 200_000 });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: `${dir}/${name}.png` });
        await parts(page, name);
      }
    });
  }

  test('screenshots of throttling: off switches, two stages, a claim’s runs', async ({ page }) => {
    test.setTimeout(120_000);
    const lab = new LabPage(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await lab.open('?scenario=throttling&seed=7&duration=5&connectionHz=2');
    // The sidebar scrolls on its own: a tall window shows the whole Shaping group.
    await page.setViewportSize({ width: 1280, height: 3000 });
    await page
      .locator('fieldset')
      .filter({ has: page.locator('legend', { hasText: /^Shaping$/ }) })
      .first()
      .screenshot({ path: `${dir}/throttling-params.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
    await lab.runToEnd();
    await page.getByTestId('claims-panel').getByTestId('claims-check').click();
    await expect(page.getByTestId('claims-summary')).toBeVisible({ timeout: 100_000 });
    const first = page.getByTestId('claim').first();
    await first.locator('summary').click();
    await parts(page, 'throttling-1280');
  });

  test('screenshot of a lab with many stages on 100 servers', async ({ page }) => {
    test.setTimeout(120_000);
    const lab = new LabPage(page);
    for (const width of [1280, 700]) {
      await page.setViewportSize({ width, height: 800 });
      await lab.open(
        `?scenario=two-hop-1m&users=20000&duration=3&batchWindowMs=100&throttleHz=2&conflation=merge&delta=on&deflate=on`,
      );
      await lab.runToEnd(100_000);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${dir}/two-hop-1m-stages-${width}.png` });
    }
  });
});
