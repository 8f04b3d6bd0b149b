// Browser tests of the case studies: the guide's figures table, and the same run as the CLI's in Chromium.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { LabPage } from './lab-page.ts';

const shots = process.env.SHOTS_DIR;

test('the live auction runs in the page as in the CLI, and its figures say what holds', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const query =
    'control=naive&bidRate=0.02&users=20000&channels=2000&duration=60&endFromS=30&endToS=55';
  const sets = query.split('&').flatMap((kv) => ['--set', kv]);
  const out = execFileSync(
    'npx',
    ['tsx', 'src/cli/main.ts', 'run', 'live-auction', '--seed', '3', ...sets, '--json'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const cli = JSON.parse(out) as {
    traceHash: string;
    bids: { lostUpdates: number };
    guideFigures: { id: string; holds: boolean; measured: number | null }[];
  };
  const lab = new LabPage(page);
  await lab.open(`?scenario=live-auction&seed=3&${query}`);
  await expect(page.getByTestId('guide-figures')).toContainText('run the scenario to its end');
  await lab.runToEnd(150_000);
  expect(await lab.hash()).toBe(cli.traceHash);
  // Naive bidding under contention loses bids: the table says so, with the CLI's count.
  expect(cli.bids.lostUpdates).toBeGreaterThan(0);
  const row = page.getByTestId('guide-figure-concurrent-bids');
  await expect(row).toHaveAttribute('data-holds', 'false');
  await expect(row).toHaveAttribute(
    'data-value',
    String(cli.guideFigures.find((f) => f.id === 'concurrent-bids')?.measured),
  );
  await expect(page.getByTestId('guide-figures').locator('tbody tr')).toHaveCount(
    cli.guideFigures.length,
  );
  // The case's own chart counts the lost bids the CLI counted.
  await expect(
    page.getByTestId('case-bids').locator('[data-testid="bar"][data-key="lost"]'),
  ).toHaveAttribute('data-value', String(cli.bids.lostUpdates));
  // It is listed with the case studies.
  await expect(
    page.locator('optgroup[label="Case studies"] option[value="live-auction"]'),
  ).toHaveCount(1);
  if (shots) await page.screenshot({ path: `${shots}/live-auction-1280.png`, fullPage: true });
});

test('ESPN runs in the page as in the CLI, with its figures', async ({ page }) => {
  test.setTimeout(180_000);
  const query = 'users=30000&servers=3&duration=20&collapsing=off';
  const sets = query.split('&').flatMap((kv) => ['--set', kv]);
  const out = execFileSync(
    'npx',
    ['tsx', 'src/cli/main.ts', 'run', 'espn', '--seed', '2', ...sets, '--json'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const cli = JSON.parse(out) as {
    traceHash: string;
    guideFigures: { id: string; holds: boolean }[];
  };
  const lab = new LabPage(page);
  await lab.open(`?scenario=espn&seed=2&${query}`);
  await lab.runToEnd(150_000);
  expect(await lab.hash()).toBe(cli.traceHash);
  for (const f of cli.guideFigures)
    await expect(page.getByTestId(`guide-figure-${f.id}`)).toHaveAttribute(
      'data-holds',
      String(f.holds),
    );
  if (shots) await page.screenshot({ path: `${shots}/espn-1280.png`, fullPage: true });
});
