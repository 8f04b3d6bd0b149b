// The page object for a cluster run's views: the clickable topology, the fault timeline, the connections chart and the sequence diagram.
import { expect, type Locator, type Page } from '@playwright/test';

export class ClusterPage {
  readonly timeline: Locator;
  readonly faultRows: Locator;
  readonly faultError: Locator;
  readonly sequence: Locator;
  readonly arrows: Locator;
  readonly sequenceTip: Locator;
  readonly connections: Locator;
  readonly metrics: Locator;
  readonly balancer: Locator;
  readonly broker: Locator;
  readonly disconnectAll: Locator;
  readonly addServer: Locator;
  readonly group: Locator;
  readonly partitionCells: Locator;
  readonly linkMenu: Locator;

  constructor(readonly page: Page) {
    this.timeline = page.getByTestId('fault-timeline');
    this.faultRows = page.getByTestId('fault-row');
    this.faultError = page.getByTestId('fault-error');
    this.sequence = page.getByTestId('sequence');
    this.arrows = page.getByTestId('sequence-arrow');
    this.sequenceTip = page.getByTestId('sequence-tip');
    this.connections = page.getByTestId('chart-connections');
    this.metrics = page.getByTestId('cluster-metrics');
    this.balancer = page.getByTestId('lb');
    this.broker = page.getByTestId('node-broker');
    this.disconnectAll = page.getByTestId('disconnect-all');
    this.addServer = page.getByTestId('add-server');
    this.group = page.getByTestId('consumer-group');
    this.partitionCells = page.getByTestId('partition-cell');
    this.linkMenu = page.getByTestId('link-menu');
  }

  /** The server i → users link's handle (opens its slow/cut menu). */
  userLink(i: number): Locator {
    return this.page.getByTestId(`user-link-server-${i}`);
  }

  /** An item of the open link menu: slow, lossy, cap, cut-up, cut-down, cut-both, heal. */
  linkItem(key: string): Locator {
    return this.linkMenu.getByTestId(`link-${key}`);
  }

  /** Each partition's owner server as the consumer-group strip shows it (-1: none). */
  async partitionOwners(): Promise<number[]> {
    return (await this.partitionCells.evaluateAll((els) =>
      els.map((e) => Number(e.getAttribute('data-owner'))),
    )) as number[];
  }

  /** Server i (0-based) as a button over the topology. */
  server(i: number): Locator {
    return this.page.getByTestId(`node-server-${i}`);
  }

  /** The broker → server i link's partition toggle. */
  link(i: number): Locator {
    return this.page.getByTestId(`link-server-${i}`);
  }

  /** The timeline row of a fault kind (and server, when given). */
  faultRow(kind: string, server?: number): Locator {
    const css = `[data-testid="fault-row"][data-kind="${kind}"]${server === undefined ? '' : `[data-server="${server}"]`}`;
    return this.page.locator(css);
  }

  async clickMode(mode: 'faults' | 'trace'): Promise<void> {
    await this.page.getByTestId(`mode-${mode}`).click();
  }

  /** Simulated seconds from the run toolbar. */
  async nowS(): Promise<number> {
    return Number.parseFloat((await this.page.getByTestId('sim-time').textContent()) ?? '0');
  }

  async waitForSimTime(seconds: number): Promise<void> {
    await expect
      .poll(() => this.nowS(), { timeout: 30_000, intervals: [50] })
      .toBeGreaterThan(seconds);
  }

  /** The run's fault schedule as the URL carries it. */
  faultsInUrl(): string | null {
    return new URL(this.page.url()).searchParams.get('faults');
  }
}
