// Browser tests of the fan-out model in the lab: a feed store and its followers, not a server fleet.
import { expect, test } from '@playwright/test';
import { LabPage } from './lab-page.ts';

const shots = process.env.SHOTS_DIR;

test('the fan-out lab shows the feed store, the strategy’s numbers and no server or bridge card', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const lab = new LabPage(page);
  await lab.open('?scenario=fan-out-celebrity&duration=60');
  await lab.runToEnd();
  const panel = page.getByTestId('fanout-panel');
  await expect(panel).toBeVisible();
  // The hybrid's write load is measured, not written in: it must be a real reduction below 100%.
  const reduction = Number(await page.getByTestId('fanout-reduction').getAttribute('data-value'));
  expect(reduction).toBeGreaterThan(0.9);
  expect(reduction).toBeLessThan(1);
  // Three tiers, and the Bloom filter's measured false-positive rate near its configured 1%.
  await expect(page.getByTestId('fanout-tiers').locator('tbody tr')).toHaveCount(3);
  const fp = Number(await page.getByTestId('fanout-fp').getAttribute('data-value'));
  expect(fp).toBeGreaterThan(0.005);
  expect(fp).toBeLessThan(0.015);
  // A feed has no connection servers and nothing for the bridge to replay.
  await expect(page.getByTestId('servers')).toHaveCount(0);
  await expect(page.getByTestId('bridge-run')).toHaveCount(0);
  await expect(page.getByText('source → Redis → server')).toHaveCount(0);
  await expect(page.getByText('in the feed → seen (a push or a feed open)')).toBeVisible();
  if (shots) await page.screenshot({ path: `${shots}/fanout-1280.png`, fullPage: true });

  // Fan-out on write: nothing is saved, every follower's feed is written.
  await lab.open('?scenario=fan-out-celebrity&duration=60&fanout=write');
  await lab.runToEnd();
  await expect(page.getByTestId('fanout-reduction')).toHaveAttribute('data-value', '0');
  await expect(page.getByTestId('fanout-bloom')).toHaveCount(0);
  if (shots) {
    await page.setViewportSize({ width: 700, height: 900 });
    await page.screenshot({ path: `${shots}/fanout-700.png`, fullPage: true });
  }
});

test('a shaped scenario hides the bridge card; an unshaped one shows it', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=batching');
  await expect(page.getByTestId('bridge-run')).toHaveCount(0);
  await lab.open('?scenario=two-hop');
  await expect(page.getByTestId('bridge-run')).toHaveCount(1);
});
