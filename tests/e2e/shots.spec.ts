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

test('screenshots of the comparison, the wizard and a single protocol', async ({ page }) => {
  test.setTimeout(120_000);
  const lab = new LabPage(page);
  for (const width of [1280, 700]) {
    await page.setViewportSize({ width, height: 800 });
    await lab.open('?scenario=protocols&seed=7&duration=30');
    await lab.setSpeed('10');
    await lab.play();
    await page.waitForTimeout(2500);
    await page.getByTestId('matrix').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${dir}/compare-${width}-run.png` });
    await lab.runToEnd();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${dir}/compare-${width}.png` });
    await page.screenshot({ path: `${dir}/compare-${width}-full.png`, fullPage: true });

    await page.goto('./?view=wizard');
    await page.screenshot({ path: `${dir}/wizard-${width}-step1.png` });
    await page.getByTestId('wizard-latency-under500ms').check();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-bidirectional-yes').check();
    await page.screenshot({ path: `${dir}/wizard-${width}-step2.png` });
    for (let i = 0; i < 3; i++) await page.getByTestId('wizard-next').click();
    await page.screenshot({ path: `${dir}/wizard-${width}-step5.png` });
    await page.getByTestId('wizard-next').click();
    await page.screenshot({ path: `${dir}/wizard-${width}-result.png`, fullPage: true });

    for (const scenario of ['sse', 'webrtc']) {
      await lab.open(`?scenario=${scenario}&seed=7`);
      await lab.setSpeed('10');
      await lab.play();
      await page.waitForTimeout(2500);
      await page.screenshot({ path: `${dir}/${scenario}-${width}.png` });
      await page.screenshot({ path: `${dir}/${scenario}-${width}-full.png`, fullPage: true });
      await lab.pause();
    }
  }
  await page.goto('./?view=playground');
  await page.waitForTimeout(1000);
  await page.screenshot({ path: `${dir}/playground-1280.png` });
});
