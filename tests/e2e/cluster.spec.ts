// Browser tests of the cluster views: faults injected by click (and the URL that replays them), the fault timeline, the connections chart and the sequence diagram.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ClusterPage } from './cluster-page.ts';
import { LabPage } from './lab-page.ts';

// Long enough that a busy machine cannot run past the pause; the scenario's own crash (30 s) runs too.
const RUN = { scenario: 'redis-pubsub', seed: 5, duration: 60 };
const QUERY = `?scenario=${RUN.scenario}&seed=${RUN.seed}&duration=${RUN.duration}`;

test('a crash clicked in, healed by a second click, goes into the URL and replays exactly', async ({
  page,
}) => {
  test.setTimeout(90_000);
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open(QUERY);
  expect(cluster.faultsInUrl()).toBeNull();
  await lab.setSpeed('10');
  await lab.play();
  await cluster.waitForSimTime(5);
  await lab.pause();
  await expect(lab.phase).toHaveText('Paused');

  await cluster.server(0).click();
  await expect(cluster.server(0)).toHaveAttribute('data-state', 'down');
  const crash = cluster.faultRow('server-crash', 0);
  await expect(crash).toHaveCount(1);
  await expect(crash).toHaveAttribute('data-open', 'true');
  await expect(crash).toHaveAttribute('data-hit', /^[1-9]/);
  await expect(cluster.timeline).toContainText(/server-crash · WS 1 · hit [\d,]+ connections/);
  await expect(page).toHaveURL(/[?&]faults=/);

  // A second click restarts it; the crash's bar is closed.
  await cluster.server(0).click();
  await expect(cluster.server(0)).toHaveAttribute('data-state', 'up');
  await expect(crash).toHaveAttribute('data-open', 'false');
  const faults = cluster.faultsInUrl();
  expect(JSON.parse(faults ?? '[]').map((f: { kind: string }) => f.kind)).toEqual([
    'server-crash',
    'server-crash',
    'server-restart',
  ]);

  await lab.runToEnd();
  const first = await lab.hash();
  expect(first).toMatch(/^[0-9a-f]{8,}$/);

  await page.reload();
  await expect(lab.phase).toHaveText('Ready', { timeout: 30_000 });
  // The link's schedule is on the timeline before the run starts, not fired yet.
  await expect(cluster.faultRow('server-crash', 0)).toHaveCount(1);
  await lab.runToEnd();
  expect(await lab.hash()).toBe(first);
  await expect(cluster.faultRow('server-crash', 0)).toHaveAttribute('data-hit', /^[1-9]/);

  test.skip(!existsSync('src/cli/main.ts'), 'the CLI is not there');
  const out = execFileSync(
    'npx',
    [
      'tsx',
      'src/cli/main.ts',
      'run',
      RUN.scenario,
      '--seed',
      String(RUN.seed),
      '--set',
      `duration=${RUN.duration}`,
      '--faults',
      faults ?? '[]',
      '--json',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect((JSON.parse(out) as { traceHash: string }).traceHash).toBe(first);
});

test('the broker, a link and the load balancer fail and heal by click; the menu works from the keyboard', async ({
  page,
}) => {
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open(QUERY);
  await lab.setSpeed('10');
  await lab.play();
  await cluster.waitForSimTime(3);
  await lab.pause();

  await cluster.disconnectAll.click();
  await expect(cluster.faultRow('mass-disconnect')).toHaveAttribute('data-hit', /^[1-9]/);

  await cluster.broker.click();
  await expect(cluster.broker).toHaveAttribute('data-state', 'down');
  await expect(cluster.faultRow('broker-down')).toHaveCount(1);
  await cluster.broker.click();
  await expect(cluster.broker).toHaveAttribute('data-state', 'up');

  await cluster.link(1).click();
  await expect(cluster.link(1)).toHaveAttribute('data-state', 'cut');
  await expect(cluster.link(1)).toHaveAttribute('aria-label', /Heal the partition/);
  await cluster.link(1).click();
  await expect(cluster.link(1)).toHaveAttribute('data-state', 'up');

  await cluster.balancer.click();
  await expect(cluster.balancer).toHaveAttribute('data-state', 'down');
  await cluster.balancer.click();
  await expect(cluster.balancer).toHaveAttribute('data-state', 'up');

  // Keyboard only: open WS 3's menu and shut it down gracefully.
  await page.getByTestId('more-server-2').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('server-menu')).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('menu-graceful')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(cluster.server(2)).toHaveAttribute('data-state', /draining|shut-down/);
  await expect(page.getByTestId('more-server-2')).toBeFocused();

  // A server is added until the run has no room left; then the refusal names the field.
  for (let i = 0; i < 4 && !(await cluster.faultError.isVisible()); i++) {
    await cluster.addServer.click();
    await expect(cluster.addServer).toBeEnabled();
  }
  await expect(page.getByTestId('fault-error-field')).toHaveText('fault.kind');
  await expect(cluster.faultError).toContainText('no room');
  await expect(cluster.server(3)).toHaveAttribute('data-state', 'up');
});

test('the sequence diagram draws arrows, explains one on hover and follows a clicked node', async ({
  page,
}) => {
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open(QUERY);
  await lab.setSpeed('10');
  await lab.play();
  await cluster.waitForSimTime(4);
  await lab.pause();
  // The diagram lays itself out only while on screen.
  await cluster.sequence.scrollIntoViewIfNeeded();
  await expect.poll(() => cluster.arrows.count()).toBeGreaterThan(10);
  for (const kind of ['publish', 'hop2', 'hop1'])
    expect(await cluster.sequence.locator(`[data-kind="${kind}"]`).count()).toBeGreaterThan(0);

  const hop1 = cluster.sequence.locator('[data-testid="sequence-arrow"][data-kind="hop1"]').first();
  await hop1.scrollIntoViewIfNeeded();
  await hop1.hover({ force: true });
  await expect(cluster.sequenceTip).toBeVisible();
  await expect(cluster.sequenceTip).toContainText(/Message #\d+/);
  await expect(cluster.sequenceTip).toContainText(/channel \d+ · seq \d+/);
  await expect(cluster.sequenceTip).toContainText(/→ users on WS \d/);
  await expect(cluster.sequenceTip).toContainText(/took [\d.]+ ms/);
  await page.mouse.move(0, 0);
  await expect(cluster.sequenceTip).toBeHidden();

  // Keyboard: focus the diagram and step through the arrows.
  await cluster.sequence.locator('svg[role="listbox"]').focus();
  await page.keyboard.press('ArrowDown');
  await expect(cluster.sequenceTip).toContainText(/Message #\d+/);
  await page.keyboard.press('Escape');

  // Trace mode: clicking WS 2 keeps only messages through it.
  await cluster.clickMode('trace');
  await cluster.server(1).click();
  await expect(page.getByTestId('sequence-filter')).toBeVisible();
  const allowed = ['source>broker', 'broker>server-1', 'server-1>users-1'];
  const strays = async () =>
    (
      await cluster.arrows.evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`),
      )
    ).filter((hop) => !allowed.includes(hop));
  await cluster.sequence.scrollIntoViewIfNeeded();
  await expect.poll(strays).toEqual([]);
  expect(await cluster.arrows.count()).toBeGreaterThan(0);
  await page.getByTestId('sequence-filter').click();
  await expect(page.getByTestId('sequence-filter')).toBeHidden();
});

test('load balancing: connections per server show the crash, the empty restart and the new server', async ({
  page,
}) => {
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open('?scenario=load-balancing&seed=1');
  await lab.runToEnd();
  await expect(cluster.connections).toBeVisible();
  await page.getByTestId('connections-lines').click();
  // Five servers, plus the one the scale-out adds at 70 s.
  await expect(cluster.connections.getByTestId('connections-line')).toHaveCount(6);
  await expect(cluster.faultRow('server-crash', 1)).toHaveAttribute('data-open', 'false');
  await expect(cluster.faultRow('scale-out')).toHaveCount(1);
  await expect(cluster.metrics).toContainText('Reach');
  await expect(page.getByTestId('cluster-reach')).toHaveText(/%$/);
});

test('cluster views fit a 700 px window', async ({ page }) => {
  await page.setViewportSize({ width: 700, height: 900 });
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open(`${QUERY}&embed=1`);
  await lab.step.click();
  await cluster.server(0).click();
  await expect(cluster.faultRow('server-crash', 0)).toHaveCount(1);
  await expect(cluster.server(0)).toHaveAttribute('data-state', 'down');
  await expect(cluster.timeline).toBeVisible();
  await expect(cluster.sequence).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(overflow).toBeLessThanOrEqual(700);
});

test('kafka consumer group: the partition strip follows a crash, rebalances without the crashed server', async ({
  page,
}) => {
  test.setTimeout(90_000);
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open('?scenario=kafka&consumers=group&seed=2');
  await lab.setSpeed('10');
  await lab.play();
  await cluster.waitForSimTime(2);
  await expect(cluster.partitionCells).toHaveCount(12);
  // Round-robin over the three servers: every server owns some partitions.
  await expect
    .poll(async () => new Set(await cluster.partitionOwners()))
    .toEqual(new Set([0, 1, 2]));
  await lab.pause();
  await expect(lab.phase).toHaveText('Paused');

  await cluster.server(0).click();
  await expect(cluster.server(0)).toHaveAttribute('data-state', 'down');
  await lab.play();
  // After the session timeout (10 s) and the rebalance (3 s) every partition has an owner again,
  // none of them the crashed server (polled: no wall-clock assumption).
  await expect
    .poll(
      async () => {
        const owners = await cluster.partitionOwners();
        const rebalancing = await cluster.group.getAttribute('data-rebalancing');
        return rebalancing === 'false' && owners.length === 12 && owners.every((o) => o > 0);
      },
      { timeout: 45_000, intervals: [100] },
    )
    .toBe(true);
  await lab.pause();
  expect(new Set(await cluster.partitionOwners())).toEqual(new Set([1, 2]));
  await expect(page.getByTestId('group-rebalances')).toHaveText(/^[1-9]/);
  await expect(cluster.group).not.toContainText('WS 1');
});

test('a server → users link: cap its bandwidth and cut one way from its menu; the URL and the timeline carry both', async ({
  page,
}) => {
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  await lab.open('?scenario=kafka&consumers=group&seed=2&duration=60');
  await lab.setSpeed('10');
  await lab.play();
  await cluster.waitForSimTime(3);
  await lab.pause();

  // Open WS 2's link menu by click, cap the bandwidth.
  await cluster.userLink(1).click();
  await expect(cluster.linkMenu).toBeVisible();
  await expect(cluster.linkMenu).toContainText('no heal');
  await cluster.linkItem('cap').click();
  await expect(cluster.linkMenu).toBeHidden();
  await expect(cluster.userLink(1)).toHaveAttribute('data-state', 'slow');
  await expect(cluster.userLink(1)).toBeFocused();
  const faults = JSON.parse(cluster.faultsInUrl() ?? '[]') as Record<string, unknown>[];
  expect(faults.at(-1)).toMatchObject({ kind: 'slow-link', target: 1, bandwidthMbps: 1, forS: 20 });
  const slow = cluster.faultRow('slow-link', 1);
  await expect(slow).toHaveCount(1);
  await expect(slow).toHaveAttribute(
    'data-label',
    /slow-link · WS 2 · cap 1 Mbit\/s for 20 s · hit/,
  );
  await expect(slow).toHaveAttribute('data-open', 'true');

  // While slowed, the slow items are off; keyboard only: cut users → server (one way).
  await cluster.userLink(1).focus();
  await page.keyboard.press('Enter');
  await expect(cluster.linkItem('cap')).toBeDisabled();
  await expect(cluster.linkItem('cut-up')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(cluster.userLink(1)).toHaveAttribute('data-state', 'cut');
  const cut = page.locator('[data-testid="fault-row"][data-kind="partition"]');
  await expect(cut).toHaveCount(1);
  await expect(cut).toHaveAttribute('data-label', /partition · users → WS 2 \(one way\) · hit/);
  await expect(cluster.timeline).toContainText('users → WS 2 (one way)');
  expect(JSON.parse(cluster.faultsInUrl() ?? '[]').at(-1)).toMatchObject({
    kind: 'partition',
    from: 'users',
    to: 'server:1',
    oneWay: true,
  });

  // Heal it from the same menu; a second cap on the still-slowed link is not offered.
  await cluster.userLink(1).click();
  await expect(cluster.linkMenu).toContainText('cut: users → WS 2 (one way)');
  await cluster.linkItem('heal').click();
  await expect(cluster.userLink(1)).toHaveAttribute('data-state', 'slow');
  await expect(cut).toHaveAttribute('data-open', 'false');
  expect(JSON.parse(cluster.faultsInUrl() ?? '[]').at(-1)).toMatchObject({
    kind: 'partition-heal',
    from: 'users',
    to: 'server:1',
    oneWay: true,
  });

  // The slow link ends on its own 20 s after it began.
  await lab.play();
  await expect(cluster.userLink(1)).toHaveAttribute('data-state', 'up', { timeout: 30_000 });
  await expect(slow).toHaveAttribute('data-open', 'false');
});

test('a fault that changed nothing gets the no-effect mark on the timeline', async ({ page }) => {
  const lab = new LabPage(page);
  const cluster = new ClusterPage(page);
  const faults = encodeURIComponent(
    JSON.stringify([
      { kind: 'slow-link', atS: 1, target: 0, forS: 20, bandwidthMbps: 1 },
      { kind: 'slow-link', atS: 2, target: 0, forS: 20, extraLatencyMs: 200 },
      { kind: 'partition', atS: 3, from: 'region:0', to: 'users', oneWay: true, forS: 5 },
    ]),
  );
  await lab.open(`?scenario=kafka&seed=2&duration=30&faults=${faults}`);
  await lab.runToEnd();
  const rows = cluster.faultRow('slow-link', 0);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-no-effect', 'false');
  await expect(rows.nth(1)).toHaveAttribute('data-no-effect', 'true');
  await expect(rows.nth(1)).toHaveAttribute('data-label', /no effect: link already slowed/);
  await expect(rows.nth(1).getByTestId('fault-no-effect')).toHaveCount(1);
  await expect(cluster.timeline).toContainText('region:0 → users (one way)');
});
