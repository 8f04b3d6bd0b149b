// The page object for the lab: opens runs, drives the controls and reads the numbers the tests check.
import { expect, type Locator, type Page } from '@playwright/test';

export class LabPage {
  readonly playButton: Locator;
  readonly pauseButton: Locator;
  readonly step: Locator;
  readonly reset: Locator;
  readonly speed: Locator;
  readonly seed: Locator;
  readonly seedInput: Locator;
  readonly traceHash: Locator;
  readonly delivered: Locator;
  readonly simTime: Locator;
  readonly phase: Locator;
  readonly error: Locator;
  readonly topology: Locator;

  constructor(readonly page: Page) {
    this.playButton = page.getByTestId('play');
    this.pauseButton = page.getByTestId('pause');
    this.step = page.getByTestId('step');
    this.reset = page.getByTestId('reset');
    this.speed = page.getByTestId('speed');
    this.seed = page.getByTestId('seed');
    this.seedInput = page.getByTestId('seed-input');
    this.traceHash = page.getByTestId('trace-hash');
    this.delivered = page.getByTestId('delivered');
    this.simTime = page.getByTestId('sim-time');
    this.phase = page.getByTestId('phase');
    this.error = page.getByTestId('error');
    this.topology = page.getByTestId('topology');
  }

  /** Opens the lab at a query string and, by default, waits until the run is loaded. */
  async open(query = '', { expectReady = true } = {}): Promise<void> {
    await this.page.goto(`./${query}`);
    if (expectReady) await expect(this.phase).toHaveText('Ready', { timeout: 30_000 });
  }

  param(name: string): Locator {
    return this.page.getByTestId(`param-${name}`);
  }

  async setSpeed(speed: string): Promise<void> {
    await this.speed.selectOption(speed);
  }

  async play(): Promise<void> {
    await this.playButton.click();
    await expect(this.pauseButton).toBeVisible();
  }

  async pause(): Promise<void> {
    if (await this.pauseButton.isVisible()) await this.pauseButton.click();
  }

  /** Runs at max speed until the run reports it is finished. */
  async runToEnd(timeoutMs = 60_000): Promise<void> {
    await this.setSpeed('max');
    await this.playButton.click();
    await expect(this.phase).toHaveText('Finished', { timeout: timeoutMs });
  }

  async setParam(name: string, value: string): Promise<void> {
    const input = this.param(name);
    await input.fill(value);
    await input.press('Enter');
  }

  async deliveredCount(): Promise<number> {
    return Number(await this.delivered.getAttribute('data-value'));
  }

  async hash(): Promise<string> {
    return (await this.traceHash.textContent())?.trim() ?? '';
  }

  // ——— the comparison view ———

  /** The comparison table's arm columns (one per protocol shown). */
  get armColumns(): Locator {
    return this.page.getByTestId('arm-column');
  }

  async armLabels(): Promise<string[]> {
    return this.armColumns.evaluateAll((els) => els.map((e) => e.getAttribute('data-arm') ?? ''));
  }

  async armHash(label: string): Promise<string> {
    return ((await this.page.getByTestId(`arm-hash-${label}`).textContent()) ?? '').trim();
  }

  cell(row: string, arm: string): Locator {
    return this.page.getByTestId(`cell-${row}-${arm}`);
  }
}
