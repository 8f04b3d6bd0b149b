// Screenshots of the cluster views for visual review (1280×800 and 700 px): runs only with SHOTS=1.
import { expect, test } from '@playwright/test';
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

for (const width of [1280, 700]) {
  test(`consumer group and link menu at ${width} px`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width, height: 800 });
    const lab = new LabPage(page);
    const cluster = new ClusterPage(page);
    // The schedule from the URL: WS 1 crashes at 8 s and stays down (no scenario crash at 30 s).
    const faults = encodeURIComponent(
      JSON.stringify([{ kind: 'server-crash', atS: 8, target: 0 }]),
    );
    await lab.open(`?scenario=kafka&consumers=group&seed=2&duration=60&faults=${faults}`);
    await lab.setSpeed('10');
    await lab.play();
    await cluster.waitForSimTime(3);
    await lab.pause();
    await expect(lab.phase).toHaveText('Paused');
    await cluster.group.scrollIntoViewIfNeeded();
    await cluster.group.screenshot({ path: `${dir}/group-${width}-strip.png` });

    // Its partitions have no owner until the session timeout (10 s), then a rebalance (3 s).
    await lab.play();
    await expect(cluster.partitionCells.first()).toHaveAttribute('data-owner', '-1');
    await lab.pause();
    await expect(lab.phase).toHaveText('Paused');
    await cluster.group.screenshot({ path: `${dir}/group-${width}-crashed.png` });
    await lab.setSpeed('1');
    await lab.play();
    await expect(cluster.group).toHaveAttribute('data-rebalancing', 'true', { timeout: 30_000 });
    await lab.pause();
    await expect(lab.phase).toHaveText('Paused');
    await cluster.group.screenshot({ path: `${dir}/group-${width}-rebalancing.png` });
    await lab.setSpeed('10');
    await lab.play();
    await expect(cluster.group).toHaveAttribute('data-rebalancing', 'false', { timeout: 30_000 });
    await lab.pause();
    await expect(lab.phase).toHaveText('Paused');
    await cluster.group.screenshot({ path: `${dir}/group-${width}-after.png` });

    // WS 2's user link: capped, WS 3's cut one way, and the menu open on WS 2.
    await page.getByTestId('topology').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -90));
    await cluster.userLink(1).click();
    await page.screenshot({ path: `${dir}/link-${width}-menu.png` });
    await cluster.linkItem('cap').click();
    await cluster.userLink(2).click();
    await cluster.linkItem('cut-down').click();
    await cluster.userLink(1).click();
    await page.screenshot({ path: `${dir}/link-${width}-menu-slowed.png` });
    await page.keyboard.press('Escape');
    await page.screenshot({ path: `${dir}/link-${width}-drawn.png` });
    await page.screenshot({ path: `${dir}/group-${width}-full.png`, fullPage: true });
  });
}
