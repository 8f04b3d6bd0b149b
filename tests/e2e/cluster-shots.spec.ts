// Screenshots of the cluster views for visual review (1280×800 and 700 px): runs only with SHOTS=1.
import { test } from '@playwright/test';
import { ClusterPage } from './cluster-page.ts';
import { LabPage } from './lab-page.ts';

const dir = process.env.SHOTS_DIR ?? '/tmp/shots';

test.skip(!process.env.SHOTS, 'set SHOTS=1 to take screenshots');

for (const width of [1280, 700]) {
  test(`cluster views at ${width} px`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width, height: 800 });
    const lab = new LabPage(page);
    const cluster = new ClusterPage(page);

    // Load balancing mid-run: the crash at 30 s, the empty restart at 50 s, the new server at 70 s.
    await lab.open('?scenario=load-balancing&seed=1');
    await lab.setSpeed('10');
    await lab.play();
    await cluster.waitForSimTime(78);
    await lab.pause();
    await page.getByTestId('topology').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -90));
    await page.screenshot({ path: `${dir}/lb-${width}-topology.png` });
    await cluster.connections.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${dir}/lb-${width}-connections.png` });
    await page.getByTestId('connections-lines').click();
    await cluster.connections.screenshot({ path: `${dir}/lb-${width}-connections-lines.png` });
    await page.screenshot({ path: `${dir}/lb-${width}-full.png`, fullPage: true });

    // Redis pub/sub after a clicked crash of WS 2.
    await lab.open('?scenario=redis-pubsub&seed=3&duration=60');
    await lab.setSpeed('10');
    await lab.play();
    await cluster.waitForSimTime(12);
    await cluster.server(1).click();
    await cluster.waitForSimTime(20);
    await cluster.link(2).click();
    await cluster.waitForSimTime(26);
    await lab.pause();
    await page.getByTestId('topology').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -90));
    await page.screenshot({ path: `${dir}/redis-${width}-crash.png` });
    await page.getByTestId('more-server-0').click();
    await page.screenshot({ path: `${dir}/redis-${width}-menu.png` });
    await page.keyboard.press('Escape');

    // The sequence diagram, with one message explained.
    await cluster.sequence.scrollIntoViewIfNeeded();
    const arrow = cluster.sequence.locator('[data-testid="sequence-arrow"][data-kind="hop1"]');
    await arrow.first().hover({ force: true });
    await cluster.sequence.screenshot({ path: `${dir}/sequence-${width}-hover.png` });
    await page.mouse.move(0, 0);
    await cluster.clickMode('trace');
    await page.getByTestId('topology').scrollIntoViewIfNeeded();
    await cluster.server(0).click();
    await lab.play();
    await cluster.waitForSimTime(28);
    await lab.pause();
    await cluster.sequence.screenshot({ path: `${dir}/sequence-${width}-filtered.png` });
    await page.screenshot({ path: `${dir}/redis-${width}-full.png`, fullPage: true });
  });
}
