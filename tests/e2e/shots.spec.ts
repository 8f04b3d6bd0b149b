// Screenshots of the lab for visual review (1280×800 and a 700 px embed, idle and mid-run); runs only with SHOTS=1.
import { test } from '@playwright/test';
import { LabPage } from './lab-page.ts';

const dir = process.env.SHOTS_DIR ?? '/tmp/shots';

test.skip(!process.env.SHOTS, 'set SHOTS=1 to take screenshots');

for (const scenario of ['two-hop', 'two-hop-1m']) {
  test(`screenshots of ${scenario}`, async ({ page }) => {
    test.setTimeout(120_000);
    const lab = new LabPage(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await lab.open(`?scenario=${scenario}&seed=7`);
    await page.screenshot({ path: `${dir}/${scenario}-1280-idle.png` });
    await lab.setSpeed(scenario === 'two-hop' ? '10' : '1');
    await lab.play();
    await page.waitForTimeout(scenario === 'two-hop' ? 2500 : 4000);
    await page.screenshot({ path: `${dir}/${scenario}-1280-run.png` });
    await page.screenshot({ path: `${dir}/${scenario}-1280-run-full.png`, fullPage: true });
    await lab.pause();

    await page.setViewportSize({ width: 700, height: 900 });
    await lab.open(`?scenario=${scenario}&seed=7&embed=1`);
    await page.screenshot({ path: `${dir}/${scenario}-700-embed-idle.png` });
    await lab.setSpeed(scenario === 'two-hop' ? '10' : '1');
    await lab.play();
    await page.waitForTimeout(3000);
    await page.screenshot({ path: `${dir}/${scenario}-700-embed-run.png`, fullPage: true });
  });
}

test('screenshot of a bad URL', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.open('?scenario=two-hop&users=-5', { expectReady: false });
  await page.screenshot({ path: `${dir}/bad-url.png` });
});
