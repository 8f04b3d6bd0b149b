// Browser tests of "run against real servers": a fake bridge replays a scripted run; table, overlay, errors, screenshots.
import { expect, test } from '@playwright/test';
import { BridgePage, realBridgeFromEnv, startFakeBridge, type FakeBridge } from './bridge-page.ts';
import { LabPage } from './lab-page.ts';

const shots = process.env.SHOTS_DIR ?? '/tmp/shots';
let fake: FakeBridge | null = null;

test.afterEach(async () => {
  await fake?.close();
  fake = null;
});

test('a run against the bridge fills the measured column, draws the overlay and shows the agreement', async ({
  page,
}) => {
  fake = await startFakeBridge();
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7');
  await expect(bridge.panel).not.toHaveAttribute('open');
  await bridge.connect(fake);
  await expect(bridge.chip).toHaveText('connected');
  await expect(bridge.status).toContainText('broker in-process');
  await bridge.runButton.click();

  await expect(bridge.chip).toHaveText('report ready');
  const sent = fake.received[0];
  expect(sent).toMatchObject({ type: 'run', scenario: 'two-hop', seed: 7 });
  expect(sent.type === 'run' && sent.params.users).toBeGreaterThan(0);

  // Every measured number is the fake's own (the report's measured side is its last progress).
  const last = fake.progress[fake.progress.length - 1];
  const expected: Record<string, number> = {
    latencyMsP50: last.latencyMs.p50,
    latencyMsP90: last.latencyMs.p90,
    latencyMsP99: last.latencyMs.p99,
    latencyMsMax: last.latencyMs.max,
    delivered: last.delivered,
    lost: last.lost,
    duplicated: last.duplicated,
    outOfOrder: last.outOfOrder,
    reach: last.reach,
    connections: last.connections,
    reconnects: last.reconnects,
    serverCpuUtilisation: last.serverCpuUtilisation,
    serverMemoryMB: last.serverMemoryMB,
  };
  for (const [key, value] of Object.entries(expected))
    expect(await bridge.value(bridge.measured(key)), key).toBe(value);
  await expect(bridge.measured('latencyMsP50')).toHaveText('35.5 ms');
  await expect(bridge.measured('delivered')).toHaveText(last.delivered.toLocaleString('en-US'));
  await expect(bridge.measured('serverMemoryMB')).toHaveText('62 MB');
  // The simulated side is the report's simulator run.
  expect(await bridge.value(bridge.simulated('latencyMsP50'))).toBe(34.143);
  expect(await bridge.value(bridge.simulated('connections'))).toBe(1000);
  await expect(bridge.simulated('reconnects')).toHaveText('–');

  await expect(page.getByTestId('agreement-p50')).toContainText('1.04');
  await expect(page.getByTestId('agreement-p50')).toContainText('within 25%');
  await expect(page.getByTestId('agreement-delivered')).toContainText('equal');
  await expect(page.getByTestId('agreement-lost')).toContainText('equal');

  await expect(bridge.overlayLegend).toContainText('measured (real servers)');
  await expect(bridge.overlayLines).toHaveCount(2);
  for (const d of await bridge.overlayLines.evaluateAll((els) =>
    els.map((e) => e.getAttribute('d') ?? ''),
  ))
    expect(d.split('L').length).toBe(fake.progress.length);
  // The legend's latest measured p50 is the last window's.
  await expect(bridge.overlayLegend).toContainText(
    `p50 ${last.windowLatencyMs!.p50.toFixed(1)} ms`,
  );
  // The lab started simulating alongside.
  await expect(lab.phase).not.toHaveText('Ready');
  // The token stays out of the lab's shareable URL.
  expect(page.url()).not.toContain(fake.token);
});

test('mid-run the measured column follows the progress, and Cancel is sent', async ({ page }) => {
  fake = await startFakeBridge({ holdReport: true, intervalMs: 40 });
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7');
  await bridge.connect(fake);
  await bridge.runButton.click();
  const last = fake.progress[fake.progress.length - 1];
  await expect(bridge.measured('delivered')).toHaveAttribute('data-value', String(last.delivered));
  await expect(bridge.chip).toHaveText(`running · ${last.tS.toFixed(0)} s`);
  await expect(bridge.status).toContainText(`${last.tS.toFixed(1)} of ${last.tS} s`);
  await expect(bridge.overlayLegend).toBeVisible();
  await bridge.cancelButton.click();
  await expect.poll(() => fake!.received.map((m) => m.type)).toEqual(['run', 'cancel']);
  await expect(page.getByTestId('bridge-notice')).toContainText('cancelled');
  await expect(bridge.runButton).toBeEnabled();
});

test('a wrong token is refused with a message that says so', async ({ page }) => {
  fake = await startFakeBridge();
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7');
  await bridge.connect({ port: fake.port, token: 'not-the-token' });
  await expect(bridge.error).toBeVisible();
  await expect(bridge.error).toHaveAttribute('data-kind', 'token');
  await expect(bridge.error).toContainText('token');
  await expect(bridge.runButton).toBeDisabled();
});

test('a bridge that is not running gets the command that starts it', async ({ page }) => {
  fake = await startFakeBridge();
  const port = fake.port;
  await fake.close();
  fake = null;
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7');
  await bridge.connect({ port, token: 'whatever' });
  await expect(bridge.error).toHaveAttribute('data-kind', 'not-running');
  await expect(page.getByTestId('bridge-command')).toHaveText(
    `npm run hoplab -- bridge serve --port ${port}`,
  );
});

test('a scenario the bridge cannot run is named, and Run waits', async ({ page }) => {
  fake = await startFakeBridge({ scenarios: ['sse'] });
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7');
  await bridge.connect(fake);
  await expect(bridge.status).toContainText('cannot run “two-hop”');
  await expect(bridge.runButton).toBeDisabled();
});

test('the panel is usable with the keyboard in a 400 px embed', async ({ page }) => {
  fake = await startFakeBridge();
  await page.setViewportSize({ width: 400, height: 800 });
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7&embed=1');
  await bridge.summary.focus();
  await page.keyboard.press('Enter');
  await expect(bridge.port).toBeVisible();
  await bridge.port.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(String(fake.port));
  await page.keyboard.press('Tab');
  await page.keyboard.type(fake.token);
  await page.keyboard.press('Enter');
  await expect(bridge.chip).toHaveText('connected');
  await bridge.runButton.focus();
  await page.keyboard.press('Enter');
  await expect(bridge.chip).toHaveText('report ready');
  const box = await bridge.table.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(400);
  await expect(bridge.port).toHaveAccessibleName('Port');
  await expect(bridge.token).toHaveAccessibleName(/Token/);
});

test('a run against a real bridge fills both columns and the overlay', async ({ page }) => {
  const real = realBridgeFromEnv();
  test.skip(!real, 'set HOPLAB_BRIDGE_URL to the control URL a running bridge printed');
  test.setTimeout(180_000);
  const lab = new LabPage(page);
  const bridge = new BridgePage(page);
  await lab.open('?scenario=two-hop&seed=7&duration=10');
  await bridge.connect(real!);
  await expect(bridge.chip).toHaveText('connected');
  await bridge.runButton.click();
  await expect(bridge.overlayLegend).toBeVisible({ timeout: 60_000 });
  await expect(bridge.chip).toHaveText('report ready', { timeout: 150_000 });
  expect(await bridge.value(bridge.measured('delivered'))).toBeGreaterThan(0);
  expect(await bridge.value(bridge.simulated('delivered'))).toBeGreaterThan(0);
  await expect(bridge.agreement).toBeVisible();
  if (process.env.SHOTS) {
    await bridge.panel.screenshot({ path: `${shots}/bridge-real-report-panel.png` });
    await page.getByTestId('chart-latency').screenshot({ path: `${shots}/bridge-real-chart.png` });
  }
});

test.describe('screenshots', () => {
  test.skip(!process.env.SHOTS, 'set SHOTS=1 to take screenshots');

  for (const width of [1280, 700, 400]) {
    test(`the panel mid-run and after the report at ${width} px`, async ({ page }) => {
      test.setTimeout(120_000);
      fake = await startFakeBridge({ holdReport: true, intervalMs: 60 });
      await page.setViewportSize({ width, height: 800 });
      const lab = new LabPage(page);
      const bridge = new BridgePage(page);
      await lab.open(`?scenario=two-hop&seed=7${width < 1000 ? '&embed=1' : ''}`);
      await page.screenshot({ path: `${shots}/bridge-${width}-collapsed.png`, fullPage: true });
      await lab.setSpeed('10');
      await bridge.connect(fake);
      await bridge.runButton.click();
      const last = fake.progress[fake.progress.length - 1];
      await expect(bridge.measured('delivered')).toHaveAttribute(
        'data-value',
        String(last.delivered),
      );
      await page.getByTestId('chart-latency').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollBy(0, -60));
      await page.screenshot({ path: `${shots}/bridge-${width}-run.png` });
      await bridge.panel.screenshot({ path: `${shots}/bridge-${width}-run-panel.png` });
      fake.release();
      await expect(bridge.chip).toHaveText('report ready');
      await lab.pause();
      await bridge.panel.screenshot({ path: `${shots}/bridge-${width}-report-panel.png` });
      await page.screenshot({ path: `${shots}/bridge-${width}-report-full.png`, fullPage: true });
      await bridge.connect({ port: fake.port, token: 'wrong' });
      await expect(bridge.error).toBeVisible();
      await bridge.panel.screenshot({ path: `${shots}/bridge-${width}-error-panel.png` });
    });
  }
});
