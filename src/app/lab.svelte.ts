// The lab's state: the chosen run (scenario, parameters, seed), its comparison arms, the worker client and what it streams.
import { ScenarioError } from '../scenario/errors.ts';
import { getScenario, listScenarios } from '../scenario/registry.ts';
import {
  parseSeed,
  resolveRun,
  SEED_MAX,
  type LoadedScenario,
  type RunSpec,
} from '../scenario/resolve.ts';
import {
  abFromQuery,
  abText,
  queryFromRun,
  runFromQuery,
  type OverrideArm,
} from '../scenario/url.ts';
import { armsFromOverrides, DEFAULT_NOISE_SEEDS, MAX_ARMS, type Arm } from '../sim/compare.ts';
import type { Fault } from '../scenario/schema.ts';
import type { RunResult, Snapshot, Topology } from '../sim/types.ts';
import { startSimWorker, type WorkerHandle } from '../worker/client.ts';
import { DEFAULT_SPEED, type Speed } from '../worker/limits.ts';
import { armLabels, armsText, isComparison, MIN_ARMS, parseArms } from '../worker/arms.ts';
import type {
  ArmUpdate,
  LoadResult,
  NoiseProgress,
  RunPhase,
  RunRequest,
  RunUpdate,
} from '../worker/protocol.ts';
import { judgingOf, type Judging } from './compare/differences.ts';
import {
  clusterCondition,
  conditionFromState,
  faultEntries,
  type ClusterCondition,
  type FaultEntry,
  type FaultInput,
} from './cluster/faults.ts';
import { MotionBuffer, SimClock } from './motion.ts';
import { splitQuery, type View } from './query.ts';
import { TraceLog } from './trace-log.ts';

/** A problem shown in the page, with what the reader can do about it. */
export interface LabProblem {
  kind: 'url' | 'worker' | 'stopped';
  title: string;
  message: string;
  /** The URL parameter or field at fault, when there is one. */
  field?: string;
  /** Where "reset to defaults" leads (URL problems). */
  resetHref?: string;
}

/** A fault the worker refused, with the input at fault named. */
export interface FaultProblem {
  field: string;
  message: string;
}

/** What a click in the topology does: inject or heal a fault, or filter the sequence diagram. */
export type ClickMode = 'faults' | 'trace';

/** Parameter edits are applied after the input settles, so a dragged slider reloads once. */
const RELOAD_DEBOUNCE_MS = 250;

/** A new A/B comparison: two arms, both the scenario as it is, for the reader to change. */
const DEFAULT_AB_ARMS: readonly OverrideArm[] = [
  { name: 'a', overrides: {} },
  { name: 'b', overrides: {} },
];

/** The arms as the lab keeps them: names and typed overrides, as the core resolved them. */
function keptArms(arms: readonly Arm[]): OverrideArm[] {
  return arms.map((a) => ({ name: a.label, overrides: { ...a.overrides } }));
}

/** The first free arm name: c, d, … then arm-7, arm-8. */
function freeArmName(arms: readonly OverrideArm[]): string {
  const taken = new Set(arms.map((a) => a.name));
  for (const name of 'abcdefghijklmnopqrstuvwxyz') if (!taken.has(name)) return name;
  let n = arms.length + 1;
  while (taken.has(`arm-${n}`)) n++;
  return `arm-${n}`;
}

export class LabState {
  readonly scenarios: LoadedScenario[] = listScenarios();
  readonly embed: boolean;
  /** Which view the URL asks for; only the lab view loads a run. */
  readonly view: View;

  scenario = $state.raw<LoadedScenario | null>(null);
  /** Every parameter's current value, by name. */
  params = $state.raw<Record<string, number | string>>({});
  seed = $state(1);
  speed = $state<Speed>(DEFAULT_SPEED);

  phase = $state<RunPhase>('idle');
  effectiveSpeed = $state(0);
  snapshot = $state.raw<Snapshot | null>(null);
  topology = $state.raw<Topology | null>(null);
  result = $state.raw<RunResult | null>(null);
  /** Why a parameter edit was refused (e.g. p99 below the median), by parameter name. */
  paramErrors = $state.raw<Record<string, string>>({});
  problem = $state.raw<LabProblem | null>(null);
  /** Comparison runs: every arm's latest snapshot and result, in the core's arm order. */
  arms = $state.raw<ArmUpdate[]>([]);
  /** Comparison runs: the arms the reader chose (null = all of them). */
  chosenArms = $state.raw<string[] | null>(null);
  /** An A/B comparison's arms (the `ab` key): overrides on top of the run's parameters; null otherwise. */
  abArms = $state.raw<OverrideArm[] | null>(null);
  /** Why an arm edit was refused, by `index:name` or `index:parameter`. */
  armErrors = $state.raw<Record<string, string>>({});
  /** Comparisons: the worker's noise estimate, once the arms are done. */
  noise = $state.raw<NoiseProgress | null>(null);
  /** Extra seeds every arm of a comparison runs on (the CLI's default, so both judge alike). */
  readonly noiseSeeds = DEFAULT_NOISE_SEEDS;

  // ——— for the shaping panel (kept apart from the run state above) ———
  /**
   * The latest finished single run's result, kept when the next run loads (`result` is cleared
   * then): its per-run tables, such as bytes per update per encoding, stay in sight meanwhile.
   */
  lastResult = $state.raw<RunResult | null>(null);
  // ——— end of the shaping panel's block ———

  /** Animation state, read every frame by the topology view: deliberately not reactive. */
  readonly clock = new SimClock();
  readonly motion = new MotionBuffer();
  /** Bumps whenever trace records arrive, for views that redraw only on data (reduced motion). */
  traceTick = $state(0);
  /** Recent sampled trace records for the sequence diagram (read on traceTick). */
  readonly traceLog = new TraceLog();

  /** Clicks in the topology break and heal things (cluster runs) or pick the diagram's node. */
  clickMode = $state<ClickMode>('faults');
  /** The sequence diagram shows only messages through this node (null: all). */
  traceFilter = $state<string | null>(null);
  /** The hops of the message hovered in the sequence diagram, highlighted in the topology. */
  highlight = $state.raw<[string, string][] | null>(null);
  /** Why the last injected fault was refused. */
  faultProblem = $state.raw<FaultProblem | null>(null);
  /** An injection is on its way to the worker (buttons wait for it). */
  injecting = $state(false);
  /** The latest injected fault's time: it counts as fired before the next update reports it. */
  /** The reader paused; the worker has not confirmed it yet. */
  private pauseRequested = false;
  private injectedAtS = $state(0);

  private worker: WorkerHandle | null = null;
  private runId = 0;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private playAfterLoad = false;

  constructor(private readonly location: Pick<Location, 'search' | 'pathname' | 'hash'>) {
    const query = new URLSearchParams(location.search);
    this.embed = query.get('embed') === '1';
    this.view = 'lab';
    try {
      const page = splitQuery(location.search);
      this.view = page.view;
      if (this.view !== 'lab' && this.view !== 'compare') return;
      const run = runFromQuery(page.runSearch);
      const chosen = page.arms === null ? null : parseArms(page.arms, run);
      this.abArms = this.armsFromUrl(run, page.runSearch);
      this.scenario = run.scenario;
      this.params = run.params;
      this.seed = run.seed;
      this.chosenArms = chosen && chosen.length < armLabels(run).length ? chosen : null;
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      const scenarioId = query.get('scenario');
      const known = scenarioId !== null && this.scenarios.some((s) => s.id === scenarioId);
      this.problem = {
        kind: 'url',
        title: 'This link has a parameter the lab cannot use',
        field: error.field,
        message: error.message.startsWith(`${error.field}: `)
          ? error.message.slice(error.field.length + 2)
          : error.message,
        resetHref: this.hrefFor(known ? { scenario: scenarioId } : {}),
      };
    }
  }

  /**
   * The `ab` arms, checked like `--set` (a bad one is a URL problem naming it); `view=compare`
   * without them starts two arms for any scenario that is not already a comparison.
   */
  private armsFromUrl(run: RunSpec, search: string): OverrideArm[] | null {
    const ab = abFromQuery(search);
    if (ab) return keptArms(armsFromOverrides(run, ab, 'ab'));
    return this.view === 'compare' && !isComparison(run) ? [...DEFAULT_AB_ARMS] : null;
  }

  get ready(): boolean {
    return this.scenario !== null;
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  get busy(): boolean {
    return this.phase === 'loading';
  }

  /** The run as the URL resolves it: the scenario with the current parameters applied. */
  readonly spec = $derived.by((): RunSpec | null => {
    if (!this.scenario) return null;
    try {
      return resolveRun(this.scenario, this.params, this.seed);
    } catch {
      return null;
    }
  });

  /** True when the run expands into several arms shown side by side (protocol=all, or `ab` arms). */
  readonly comparison = $derived(
    this.abArms !== null || (this.spec !== null && isComparison(this.spec)),
  );

  /** A/B comparisons: each arm's resolved run (null while an edit leaves them invalid). */
  readonly abRuns = $derived.by((): Arm[] | null => {
    if (!this.spec || !this.abArms) return null;
    try {
      return armsFromOverrides(this.spec, this.abArms, 'ab');
    } catch {
      return null;
    }
  });

  /** Where the verdicts stand: waiting for the arms, estimating the noise, or final. */
  readonly judging = $derived<Judging>(
    judgingOf(this.phase, this.noise, this.comparison ? this.noiseSeeds : 0),
  );

  /** Cluster runs: the schedule (scenario + injected faults) joined with what each fault did. */
  readonly faults = $derived.by((): FaultEntry[] => {
    const scenario = this.scenario;
    if (scenario?.model !== 'cluster') return [];
    return faultEntries(
      this.snapshot?.cluster?.faults ?? [],
      scenario.topology.faults,
      this.spec?.scenario.model === 'cluster' ? this.spec.scenario.topology.servers : 0,
    );
  });

  /** Cluster runs: which servers, links, broker and balancer are down now. */
  readonly condition = $derived.by((): ClusterCondition | null => {
    const run = this.spec?.scenario;
    if (run?.model !== 'cluster' || !this.topology) return null;
    const shown = this.topology.nodes.filter((n) => n.kind === 'server').length;
    const snapS = (this.snapshot?.nowUs ?? 0) / 1e6;
    const nowS = Math.max(snapS, this.injectedAtS);
    const state = this.snapshot?.cluster?.state;
    if (state && snapS >= this.injectedAtS) return conditionFromState(state, this.faults, nowS);
    return clusterCondition(
      this.faults,
      nowS,
      run.topology.servers,
      shown,
      run.topology.server.drainS,
    );
  });

  /** Every arm the current comparison could show, in the core's order. */
  readonly armChoices = $derived(
    this.spec && !this.abArms && this.comparison ? armLabels(this.spec) : [],
  );

  /** The arms shown: the reader's choice, or all of them. */
  get shownArms(): string[] {
    return this.chosenArms ?? this.armChoices;
  }

  /** Starts the worker and loads the run from the URL. Call once, in the browser. */
  connect(): void {
    if (!this.scenario || this.worker) return;
    try {
      this.worker = startSimWorker(
        (update) => this.onUpdate(update),
        (message) => this.workerFailed(message),
      );
    } catch (error) {
      this.workerFailed(error instanceof Error ? error.message : String(error));
      return;
    }
    void this.worker.api.setSpeed(this.speed);
    this.load();
  }

  dispose(): void {
    clearTimeout(this.reloadTimer);
    this.worker?.dispose();
    this.worker = null;
  }

  // ——— run controls ———

  togglePlay(): void {
    if (this.phase === 'running') this.pause();
    else this.play();
  }

  play(): void {
    if (!this.worker || !this.scenario) return;
    if (this.phase === 'done' || this.phase === 'stopped' || this.phase === 'error') {
      this.reload(true);
      return;
    }
    if (this.phase === 'loading') {
      this.playAfterLoad = true;
      return;
    }
    this.phase = 'running';
    this.pauseRequested = false;
    void this.call((api) => api.start());
  }

  pause(): void {
    this.playAfterLoad = false;
    if (this.phase !== 'running') return;
    this.phase = 'paused';
    this.pauseRequested = true;
    void this.call((api) => api.pause());
  }

  step(): void {
    if (this.phase === 'done' || this.phase === 'loading' || this.phase === 'idle') return;
    void this.call((api) => api.step());
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
    void this.call((api) => api.setSpeed(speed));
  }

  /** Back to t = 0 with the current parameters and seed. */
  reset(): void {
    this.reload(false);
  }

  // ——— faults (cluster runs) ———

  /**
   * Injects a fault now. The worker replies with the whole schedule, which becomes the run's own:
   * the URL then carries it (`faults=`), so the link and Reset replay this exact run.
   */
  async injectFault(fault: FaultInput): Promise<boolean> {
    if (!this.worker || this.scenario?.model !== 'cluster') return false;
    this.injecting = true;
    this.faultProblem = null;
    try {
      const reply = await this.worker.api.injectFault(fault);
      if (!reply.ok) {
        this.faultProblem = { field: reply.field, message: reply.message };
        return false;
      }
      if (reply.runId !== this.runId) return false;
      this.injectedAtS = reply.record.atS;
      this.setSchedule(reply.schedule);
      this.writeUrl();
      return true;
    } catch (error) {
      this.faultProblem = {
        field: 'fault',
        message: error instanceof Error ? error.message : String(error),
      };
      return false;
    } finally {
      this.injecting = false;
    }
  }

  /** True when the run's fault schedule differs from its scenario's (faults were injected). */
  get faultsChanged(): boolean {
    const scenario = this.scenario;
    if (scenario?.model !== 'cluster') return false;
    const own = getScenario(scenario.id);
    return (
      own.model === 'cluster' &&
      JSON.stringify(own.topology.faults) !== JSON.stringify(scenario.topology.faults)
    );
  }

  /** Back to the scenario's own fault schedule, from t = 0. */
  restoreFaults(): void {
    const scenario = this.scenario;
    if (scenario?.model !== 'cluster') return;
    const own = getScenario(scenario.id);
    if (own.model !== 'cluster') return;
    this.setSchedule(own.topology.faults);
    this.writeUrl();
    this.reload(false);
  }

  dismissFaultProblem(): void {
    this.faultProblem = null;
  }

  private setSchedule(schedule: readonly Fault[]): void {
    const scenario = this.scenario;
    if (scenario?.model !== 'cluster') return;
    this.scenario = {
      ...scenario,
      topology: { ...scenario.topology, faults: schedule.map((f) => ({ ...f })) },
    };
  }

  // ——— the run's definition ———

  selectScenario(id: string): void {
    const scenario = getScenario(id);
    this.scenario = scenario;
    this.params = Object.fromEntries(scenario.parameters.map((p) => [p.name, p.default]));
    this.paramErrors = {};
    this.chosenArms = null;
    // A/B arms name this scenario's parameters: a new scenario starts from two plain arms.
    if (this.abArms) this.abArms = [...DEFAULT_AB_ARMS];
    this.armErrors = {};
    this.writeUrl();
    this.reload(false);
  }

  /** Chooses which arms of a comparison run (at least two); rebuilds them on the same seed. */
  setArms(labels: readonly string[]): void {
    const run = this.spec;
    if (!run || this.abArms || !this.comparison) return;
    const keep = armLabels(run).filter((l) => labels.includes(l));
    if (keep.length < MIN_ARMS) return;
    this.chosenArms = keep.length === armLabels(run).length ? null : keep;
    this.writeUrl();
    this.reload(this.phase === 'running');
  }

  // ——— A/B arms ———

  /** Adds an arm (the scenario as it is, under the first free name), up to MAX_ARMS. */
  addArm(): void {
    const arms = this.abArms;
    if (!arms || arms.length >= MAX_ARMS) return;
    this.applyArms([...arms, { name: freeArmName(arms), overrides: {} }], `${arms.length}:name`);
  }

  removeArm(index: number): void {
    const arms = this.abArms;
    if (!arms || arms.length <= MIN_ARMS) return;
    this.armErrors = {};
    this.applyArms(
      arms.filter((_, i) => i !== index),
      `${index}:name`,
    );
  }

  /** Renames an arm; returns the refusal (a bad or taken name) or null. */
  renameArm(index: number, name: string): string | null {
    return this.editArm(index, `${index}:name`, (arm) => ({ ...arm, name: name.trim() }));
  }

  /** Sets one parameter of an arm (checked like `--set`); returns the refusal or null. */
  setArmParam(index: number, param: string, value: number | string): string | null {
    return this.editArm(index, `${index}:${param}`, (arm) => ({
      ...arm,
      overrides: { ...arm.overrides, [param]: value },
    }));
  }

  /** Drops one parameter from an arm: it follows the run's own value again. */
  clearArmParam(index: number, param: string): void {
    const { [`${index}:${param}`]: _, ...rest } = this.armErrors;
    this.armErrors = rest;
    this.editArm(index, `${index}:${param}`, (arm) => {
      const { [param]: _, ...overrides } = arm.overrides;
      return { ...arm, overrides };
    });
  }

  /** A link to one A/B arm on its own in the lab: the same run with that arm's overrides. */
  abArmHref(index: number): string {
    const arm = this.abRuns?.[index];
    if (!arm) return this.location.pathname;
    return `${this.location.pathname}?${queryFromRun(arm.run, this.embed ? { embed: '1' } : {})}`;
  }

  private editArm(
    index: number,
    key: string,
    change: (arm: OverrideArm) => OverrideArm,
  ): string | null {
    const arms = this.abArms;
    if (!arms?.[index]) return null;
    return this.applyArms(
      arms.map((arm, i) => (i === index ? change(arm) : arm)),
      key,
    );
  }

  /** Takes the edited arms if they resolve (then reloads them); otherwise records why not. */
  private applyArms(next: OverrideArm[], key: string): string | null {
    const run = this.spec;
    if (!run) return null;
    let arms: Arm[];
    try {
      arms = armsFromOverrides(run, next, 'ab');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.armErrors = { ...this.armErrors, [key]: message };
      return message;
    }
    const { [key]: _, ...rest } = this.armErrors;
    this.armErrors = rest;
    this.abArms = keptArms(arms);
    this.writeUrl();
    this.scheduleReload();
    return null;
  }

  /** Applies one parameter value; returns the error text if the value was refused. */
  setParam(name: string, value: number | string): string | null {
    if (!this.scenario) return null;
    const next = { ...this.params, [name]: value };
    try {
      const run = resolveRun(this.scenario, next, this.seed);
      this.params = run.params;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.paramErrors = { ...this.paramErrors, [name]: message };
      return message;
    }
    const { [name]: _, ...rest } = this.paramErrors;
    this.paramErrors = rest;
    this.writeUrl();
    this.scheduleReload();
    return null;
  }

  resetParams(): void {
    if (this.scenario) this.selectScenario(this.scenario.id);
  }

  /** Applies a typed seed; returns the error text if it is not a valid seed. */
  setSeed(raw: string | number): string | null {
    let seed: number;
    try {
      seed = parseSeed(raw);
    } catch (error) {
      return error instanceof Error ? error.message.replace(/^seed: /, '') : String(error);
    }
    if (seed === this.seed) return null;
    this.seed = seed;
    this.writeUrl();
    this.reload(this.phase === 'running');
    return null;
  }

  newSeed(): void {
    const buffer = new Uint32Array(1);
    crypto.getRandomValues(buffer);
    this.setSeed(buffer[0] % (SEED_MAX + 1));
  }

  /** A link to one arm of the comparison on its own: same seed and settings, that protocol only. */
  armHref(label: string): string {
    if (!this.scenario) return this.location.pathname;
    const param = this.scenario.parameters.find((p) => p.path === 'workload.protocol');
    const params = param ? { ...this.params, [param.name]: label } : this.params;
    const query = queryFromRun(
      { scenario: this.scenario, params, seed: this.seed },
      this.embed ? { embed: '1' } : {},
    );
    return `${this.location.pathname}?${query}`;
  }

  /** The header's Compare link: this scenario's A/B comparison, or the protocol comparison. */
  get compareHref(): string {
    const scenario = this.scenario;
    if (!scenario || scenario.model === 'protocols')
      return `${this.location.pathname}?scenario=protocols`;
    return `${this.location.pathname}?view=compare&scenario=${encodeURIComponent(scenario.id)}`;
  }

  /** The shareable address of the current run. */
  shareUrl(base: string): string {
    return `${base.split('?')[0].split('#')[0]}?${this.query()}`;
  }

  dismissProblem(): void {
    if (this.problem?.kind !== 'url') this.problem = null;
  }

  // ——— internals ———

  private query(): string {
    const run =
      this.spec ??
      (this.scenario ? { scenario: this.scenario, params: this.params, seed: this.seed } : null);
    if (!run) return '';
    const extra: Record<string, string> = {};
    const arms =
      this.comparison && this.chosenArms && !this.abArms ? armsText(run, this.chosenArms) : '';
    if (arms) extra.arms = arms;
    if (this.view === 'compare' || this.abArms) extra.view = 'compare';
    if (this.abArms) extra.ab = abText(this.abArms);
    if (this.embed) extra.embed = '1';
    return queryFromRun(run, extra);
  }

  private hrefFor(entries: Record<string, string>): string {
    const query = new URLSearchParams(entries);
    if (this.embed) query.set('embed', '1');
    const text = query.toString();
    return `${this.location.pathname}${text ? `?${text}` : ''}`;
  }

  private writeUrl(): void {
    if (typeof history === 'undefined') return;
    history.replaceState(history.state, '', `${this.location.pathname}?${this.query()}`);
  }

  private request(): RunRequest | null {
    if (!this.scenario) return null;
    const request: RunRequest = {
      scenarioId: this.scenario.id,
      params: { ...this.params },
      seed: this.seed,
    };
    if (this.abArms)
      request.abArms = this.abArms.map((a) => ({ ...a, overrides: { ...a.overrides } }));
    else if (this.comparison && this.chosenArms) request.arms = [...this.chosenArms];
    if (this.comparison) request.noiseSeeds = this.noiseSeeds;
    // A link's fault schedule lives in the resolved scenario; the worker must run the same one.
    if (this.scenario.model === 'cluster') request.faults = this.scenario.topology.faults;
    return request;
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    // A running run restarts with the new values; a paused or finished one waits for Play.
    this.reloadTimer = setTimeout(
      () => this.reload(this.phase === 'running' || this.playAfterLoad),
      RELOAD_DEBOUNCE_MS,
    );
  }

  private reload(playAfter: boolean): void {
    clearTimeout(this.reloadTimer);
    this.playAfterLoad = playAfter;
    this.load();
  }

  private load(): void {
    const request = this.request();
    if (!request || !this.worker) return;
    this.phase = 'loading';
    this.result = null;
    this.noise = null;
    this.faultProblem = null;
    this.injectedAtS = 0;
    this.highlight = null;
    if (this.problem?.kind !== 'url') this.problem = null;
    this.worker.api.load(request).then(
      (loaded) => this.onLoaded(loaded),
      (error: unknown) => {
        // A superseded load's failure is old news.
        if (this.phase !== 'loading') return;
        this.phase = 'error';
        this.problem = {
          kind: 'worker',
          title: 'The simulation could not start',
          message: `${error instanceof Error ? error.message : String(error)}. Check the parameters or press Reset to try again.`,
        };
      },
    );
  }

  private onLoaded(loaded: LoadResult): void {
    if (loaded.runId < this.runId) return;
    this.runId = loaded.runId;
    this.topology = loaded.topology;
    this.snapshot = loaded.snapshot;
    this.arms = loaded.arms ?? [];
    this.motion.clear();
    this.traceLog.clear();
    this.traceTick++;
    if (this.traceFilter && !loaded.topology.nodes.some((n) => n.id === this.traceFilter))
      this.traceFilter = null;
    this.clock.set(loaded.snapshot.nowUs, performance.now(), true);
    this.phase = 'ready';
    if (this.playAfterLoad) {
      this.playAfterLoad = false;
      this.play();
    }
  }

  private onUpdate(update: RunUpdate): void {
    // runId -1: a crash report from the worker itself, always relevant.
    if (update.runId !== -1 && update.runId < this.runId) return;
    if (update.runId > this.runId) this.runId = update.runId;
    const { status } = update;
    // 'loading' and 'ready' are driven by load() itself; updates only report the run's progress.
    // Updates the worker sent before it got a pause still say running: the page stays paused
    // (their snapshots are still taken: the run did get that far).
    const stale = this.pauseRequested && status.phase === 'running';
    if (!stale) this.pauseRequested = false;
    if (status.phase !== 'loading' && status.phase !== 'ready' && status.phase !== 'idle' && !stale)
      this.phase = status.phase;
    this.effectiveSpeed = status.effectiveSpeed;
    if (update.snapshot) {
      const jump = status.phase !== 'running';
      this.snapshot = update.snapshot;
      this.clock.set(update.snapshot.nowUs, performance.now(), jump && update.trace.length === 0);
    }
    if (update.topology) this.topology = update.topology;
    if (update.trace.length) {
      this.motion.add(update.trace);
      this.traceLog.add(update.trace);
      this.traceTick++;
    }
    if (update.result) this.result = update.result;
    if (update.result) this.lastResult = update.result; // the shaping panel's block, above
    if (update.arms) this.arms = update.arms;
    if (update.noise) this.noise = update.noise;
    if (status.phase === 'stopped') {
      this.problem = {
        kind: 'stopped',
        title: 'The run was stopped',
        message: status.message ?? 'A safety limit stopped the run.',
      };
    } else if (status.phase === 'error') {
      this.problem = {
        kind: 'worker',
        title: 'The simulation hit an error',
        message: status.message ?? 'Unknown error. Press Reset or reload the page.',
      };
    }
  }

  private workerFailed(message: string): void {
    this.phase = 'error';
    this.problem = {
      kind: 'worker',
      title: 'The simulation worker failed',
      message: `${message}. Reload the page; if it keeps failing, try another browser or report it with the copied link.`,
    };
  }

  private call(fn: (api: WorkerHandle['api']) => Promise<unknown>): Promise<unknown> {
    if (!this.worker) return Promise.resolve();
    return fn(this.worker.api).catch((error: unknown) =>
      this.workerFailed(error instanceof Error ? error.message : String(error)),
    );
  }
}
