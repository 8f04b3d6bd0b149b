// The guide's fan-out strategies (write, read, hybrid) for a celebrity with millions of followers, as a discrete-event model.
import type { FanoutModelScenario } from '../../../scenario/fanout-schema.ts';
import type { RunSpec } from '../../../scenario/resolve.ts';
import { EventModel, word0 } from '../../engine.ts';
import { sampler, type Sampler } from '../../dist.ts';
import { LatencyHistogram } from '../../histogram.ts';
import { Rng } from '../../rng.ts';
import { sampleIntervalUs, SeriesRecorder } from '../../series.ts';
import type { Simulation } from '../../simulation.ts';
import { TRACE_HOP1, TRACE_HOP2, TRACE_PUBLISH } from '../../trace.ts';
import type {
  FlowCounts,
  LinkStats,
  RunResult,
  ServerStats,
  Snapshot,
  Topology,
} from '../../types.ts';
import { planBloom, SampledBloomFilter, theoreticalFpRate, optimalBits } from './bloom.ts';
import { VisibilityCalendar } from './calendar.ts';
import { binomial, exponential, poisson } from './draw.ts';
import { ACTIVE, INACTIVE, INACTIVE_FP, ONLINE, ReadPath } from './reads.ts';
import type {
  FanoutBloomStats,
  FanoutReadClassStats,
  FanoutStats,
  FanoutStrategy,
  FanoutTier,
  FanoutTierStats,
} from './types.ts';

// Event kinds, in the low bits of word0.
const EV_CELEBRITY_POST = 0;
const EV_POST = 1; // an ordinary author's post
const EV_POOL = 2; // word1: the job whose chunk of feed writes completes now
const EV_READS = 3; // a tick of feed opens (read cost and latency)
const EV_SAMPLE = 4;

/** Feed opens are counted in ticks of this length (Poisson counts per tick; only their cost matters). */
const READ_TICK_US = 100_000;
/** Read latencies drawn ahead per follower class, for the open that first shows a post. */
const READ_TABLE_SIZE = 4096;
/** Online followers' notifications traced per chunk of a traced post. */
const TRACE_NOTIFICATIONS_PER_CHUNK = 3;
/** Ordinary posts per simulated second that the trace aims for (celebrity posts are always traced). */
const TRACED_POSTS_PER_SEC = 10;

const TIERS: readonly FanoutTier[] = ['write', 'push', 'read'];
const T_WRITE = 0;
const T_PUSH = 1;
const T_READ = 2;

// Node indexes in trace records.
const NODE_AUTHORS = 0;
const NODE_STORE = 1;
const NODE_ONLINE = 2;
const NODE_ACTIVE = 3;
const NODE_INACTIVE = 4;
const NODE_IDS = [
  'authors',
  'feed-store',
  'followers-online',
  'followers-active',
  'followers-inactive',
];

/** Something that runs a fan-out scenario: the shared RunSpec, or one built by ./resolve.ts. */
export interface FanoutRunInput {
  scenario: { id: string };
  seed: number;
  params: Record<string, number | string>;
}

export interface FanoutOptions {
  /** Keep one record per (follower, post) and per post, for property tests on small runs. */
  recordDeliveries?: boolean;
}

/** One (follower, post) outcome, recorded with `recordDeliveries`. */
export interface DeliveryRecord {
  post: number;
  /** The celebrity's follower index, or −1 for an ordinary author's (anonymous) follower. */
  user: number;
  cls: number;
  /** The follower's feed was written (write or push tier), or the post is read from the timeline. */
  written: boolean;
  createdUs: number;
  /** When the post reached the follower: feed entry written, or the post stored (read path). */
  availableUs: number;
  /** When the follower saw it; −1 if not by the end of the run. */
  visibleUs: number;
  viaPush: boolean;
}

/** One post, recorded with `recordDeliveries`. */
export interface PostRecord {
  post: number;
  /** −1 for the celebrity, else the ordinary author's index. */
  author: number;
  tier: FanoutTier;
  createdUs: number;
  followers: number;
  online: number;
  /** Active but not online. */
  active: number;
  inactive: number;
  falsePositives: number;
  /** Feed writes decided for the post. */
  targets: number;
}

export type FanoutSnapshot = Snapshot & { fanout: FanoutStats };
/**
 * The run's figures ride on the result as `fanoutStats` (as `protocolStats`, `clusterStats`):
 * `fanout` on a RunResult is already the owed-deliveries count of FlowCounts.
 */
export type FanoutRunResult = RunResult & { fanoutStats: FanoutStats };

export class FanoutSimulation extends EventModel implements Simulation {
  readonly durationUs: number;
  private readonly sc: FanoutModelScenario;
  private readonly strategy: FanoutStrategy;
  private readonly series: SeriesRecorder;
  private readonly calendar: VisibilityCalendar;

  private readonly e2eHist = new LatencyHistogram();
  private readonly hop2Hist = new LatencyHistogram();
  private readonly hop1Hist = new LatencyHistogram();
  private readonly intervalHist = new LatencyHistogram();
  private readonly notifyHist = new LatencyHistogram();
  private readonly staleHist = new LatencyHistogram();
  private readonly readHist = new LatencyHistogram();
  private readonly readClassHist = [
    new LatencyHistogram(),
    new LatencyHistogram(),
    new LatencyHistogram(),
  ];

  // Followers: one byte each (ONLINE, ACTIVE, INACTIVE, INACTIVE_FP), in follower-list order.
  private readonly followers: number;
  private readonly cls: Uint8Array;
  private readonly classCount = new Float64Array(4);

  // Ordinary authors: follower count, its split by class, the filter's false positives, tier.
  private readonly authors: number;
  private readonly authorFollowers: Int32Array;
  private readonly authorOnline: Int32Array;
  private readonly authorActive: Int32Array;
  private readonly authorInactive: Int32Array;
  private readonly authorFp: Int32Array;
  private readonly authorTier: Uint8Array;
  private readonly authorSeq: Int32Array;
  private readonly celebrityTier: number;
  private readonly followShares: { write: number; push: number; read: number };

  // Randomness, one stream per concern so a strategy change never shifts the workload.
  private readonly postRng: Rng;
  private readonly visRng: Rng;
  private readonly readRng: Rng;
  private readonly pushLatencyMs: Sampler;
  private readonly readPath: ReadPath;
  private readonly readTables: Float64Array[] = [];
  /** Mean time between feed opens per class, µs (INACTIVE_FP opens as INACTIVE). */
  private readonly openMeanUs = new Float64Array(4);

  // The feed writer pool: jobs (one per fanned-out post) served round robin, a chunk per event.
  private jobPost = new Int32Array(256);
  private jobAuthor = new Int32Array(256);
  private jobTargets = new Float64Array(256);
  private jobDone = new Float64Array(256);
  private jobCursor = new Float64Array(256);
  private jobRemOnline = new Float64Array(256);
  private jobRemActive = new Float64Array(256);
  private jobRemInactive = new Float64Array(256);
  private jobs = 0;
  private ring = new Int32Array(256);
  private ringHead = 0;
  private ringSize = 0;
  private poolBusy = false;
  private chunkWrites = 0;
  private chunkStartUs = 0;
  private poolBusyUs = 0;
  private queuedWrites = 0;
  private queuedWritesMax = 0;
  private readonly writeUsPerWrite: number;
  private readonly traceEvery: number;

  // The first celebrity post: its fan-out time.
  private firstCelebrityPost = -1;
  private firstCelebrityJob = -1;
  private firstCelebrityTargets = 0;
  private firstCelebrityDoneUs = -1;

  // Counters.
  private flow: FlowCounts = {
    produced: 0,
    fanout: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    inFlight: 0,
  };
  private readonly tierStats: FanoutTierStats[];
  private celebrityPosts = 0;
  private celebrityOwed = 0;
  private celebritySeen = 0;
  private celebrityWrites = 0;
  private feedWrites = 0;
  private feedWritesDone = 0;
  private timelineWrites = 0;
  private writesIfWrite = 0;
  private pushes = 0;
  private fpPushes = 0;
  private cachedPosts = 0;
  private notifications = 0;
  private notYetSeen = 0;
  /** Seen by a live push (counted when the clock passes the arrival). */
  private pushSeen = 0;
  private staleSeen = 0;
  private readonly opens = new Float64Array(3);
  private readonly readOps = new Float64Array(3);
  private readTimelines = 0;
  private lastReadTickUs = 0;
  private bloomStats: FanoutBloomStats | null = null;

  private readonly log: DeliveryRecord[] | null;
  private readonly postLog: PostRecord[] | null;

  constructor(run: RunSpec | FanoutRunInput, sc: FanoutModelScenario, options: FanoutOptions = {}) {
    super(run as RunSpec);
    this.sc = sc;
    const t = sc.topology;
    const w = sc.workload;
    this.strategy = t.strategy.fanout;
    this.durationUs = Math.round(sc.durationS * 1e6);
    this.log = options.recordDeliveries ? [] : null;
    this.postLog = options.recordDeliveries ? [] : null;
    const root = new Rng(run.seed);
    this.series = new SeriesRecorder(
      sampleIntervalUs(sc.sampleIntervalMs, this.durationUs),
      this.durationUs,
      1,
    );
    this.calendar = new VisibilityCalendar(this.series.intervalUs, this.series.buckets + 1);
    this.tierStats = TIERS.map((tier) => ({
      tier,
      authors: 0,
      posts: 0,
      owed: 0,
      feedWrites: 0,
      pushes: 0,
      falsePositivePushes: 0,
      timelineWrites: 0,
    }));

    // Followers: online ⊂ active ⊂ all, independently per follower, one u32 each.
    const N = t.followers;
    this.followers = N;
    this.cls = new Uint8Array(N);
    const onlineBelow = t.onlineShare * 4294967296;
    const activeBelow = t.activeShare * 4294967296;
    const frng = root.fork('followers');
    for (let u = 0; u < N; u++) {
      const x = frng.u32();
      const c = x < onlineBelow ? ONLINE : x < activeBelow ? ACTIVE : INACTIVE;
      this.cls[u] = c;
      this.classCount[c]++;
    }
    this.celebrityTier = this.tierOf(N);
    this.tierStats[this.celebrityTier].authors++;
    if (this.strategy === 'hybrid') this.buildBloom(root.fork('bloom'));
    for (let c = 0; c < 4; c++) this.hasher.add(this.classCount[c]);

    // Ordinary authors: heavy-tailed follower counts; their followers are anonymous, drawn from
    // the same population (class counts by the population's realised shares).
    const A = t.authors;
    this.authors = A;
    this.authorFollowers = new Int32Array(A);
    this.authorOnline = new Int32Array(A);
    this.authorActive = new Int32Array(A);
    this.authorInactive = new Int32Array(A);
    this.authorFp = new Int32Array(A);
    this.authorTier = new Uint8Array(A);
    this.authorSeq = new Int32Array(A + 1);
    const arng = root.fork('authors');
    const fprng = root.fork('authors/fp');
    const pareto = sampler({ kind: 'pareto', ...t.authorFollowers }, arng);
    const pOnline = this.classCount[ONLINE] / N;
    const pActiveGivenOffline =
      pOnline < 1 ? Math.min(1, this.classCount[ACTIVE] / N / (1 - pOnline)) : 0;
    const inactiveAll = this.classCount[INACTIVE] + this.classCount[INACTIVE_FP];
    const fpShare = inactiveAll > 0 ? this.classCount[INACTIVE_FP] / inactiveAll : 0;
    const edges = new Float64Array(3);
    for (let a = 0; a < A; a++) {
      const k = Math.min(N, Math.max(1, Math.round(pareto())));
      const on = binomial(arng, k, pOnline);
      const act = binomial(arng, k - on, pActiveGivenOffline);
      const inactive = k - on - act;
      this.authorFollowers[a] = k;
      this.authorOnline[a] = on;
      this.authorActive[a] = act;
      this.authorInactive[a] = inactive;
      this.authorFp[a] = this.strategy === 'hybrid' ? binomial(fprng, inactive, fpShare) : 0;
      const tier = this.tierOf(k);
      this.authorTier[a] = tier;
      this.tierStats[tier].authors++;
      edges[tier] += k;
      this.hasher.add(k);
    }
    const edgeSum = edges[0] + edges[1] + edges[2];
    this.followShares =
      edgeSum > 0
        ? { write: edges[0] / edgeSum, push: edges[1] / edgeSum, read: edges[2] / edgeSum }
        : { write: 1, push: 0, read: 0 };

    // Opens: online followers refresh, active ones open the app, inactive ones come back rarely.
    this.openMeanUs[ONLINE] = w.onlineRefreshS * 1e6;
    this.openMeanUs[ACTIVE] = 86_400e6 / w.activeOpensPerDay;
    this.openMeanUs[INACTIVE] = w.inactiveReturnDays * 86_400e6;
    this.openMeanUs[INACTIVE_FP] = this.openMeanUs[INACTIVE];
    this.readRng = root.fork('reads');
    this.readPath = new ReadPath(
      {
        strategy: this.strategy,
        celebrityTier: TIERS[this.celebrityTier],
        followsPerUser: t.followsPerUser,
        shares: this.followShares,
        feedReadMs: t.reads.feedReadMs,
        cacheFetchMs: t.reads.cacheFetchMs,
        dbFetchMs: t.reads.dbFetchMs,
        fetchConcurrency: t.reads.fetchConcurrency,
        mergeUsPerTimeline: t.reads.mergeUsPerTimeline,
      },
      this.readRng,
    );
    // The open that first shows a post costs what any open of that follower's class costs: its
    // latency comes from a table drawn from the same read path (a lookup, not a dozen draws, per
    // follower).
    const tables = new ReadPath(
      {
        strategy: this.strategy,
        celebrityTier: TIERS[this.celebrityTier],
        followsPerUser: t.followsPerUser,
        shares: this.followShares,
        feedReadMs: t.reads.feedReadMs,
        cacheFetchMs: t.reads.cacheFetchMs,
        dbFetchMs: t.reads.dbFetchMs,
        fetchConcurrency: t.reads.fetchConcurrency,
        mergeUsPerTimeline: t.reads.mergeUsPerTimeline,
      },
      root.fork('reads/table'),
    );
    for (let c = 0; c < 4; c++) {
      const table = new Float64Array(READ_TABLE_SIZE);
      for (let i = 0; i < READ_TABLE_SIZE; i++) table[i] = tables.draw(c);
      this.readTables.push(table);
    }

    this.postRng = root.fork('posts');
    this.visRng = root.fork('visibility');
    this.pushLatencyMs = sampler(t.pushLatencyMs, root.fork('push'));
    this.writeUsPerWrite = 1e6 / t.feedStore.writesPerSec;
    this.traceEvery = Math.max(1, Math.round(w.postsPerSec / TRACED_POSTS_PER_SEC));

    const firstUs = Math.round(w.firstPostS * 1e6);
    if (firstUs <= this.durationUs) this.queue.push(firstUs, word0(EV_CELEBRITY_POST), 0);
    this.scheduleNextPost(0);
    this.queue.push(Math.min(READ_TICK_US, this.durationUs), word0(EV_READS), 0);
    this.queue.push(Math.min(this.series.intervalUs, this.durationUs), word0(EV_SAMPLE), 0);
  }

  /** The tier a follower count falls in under this run's strategy. */
  private tierOf(followers: number): number {
    const s = this.sc.topology.strategy;
    if (this.strategy === 'write') return T_WRITE;
    if (this.strategy === 'read') return T_READ;
    if (followers < s.activeThreshold) return T_WRITE;
    if (followers > s.celebrityThreshold) return T_READ;
    return T_PUSH;
  }

  // ---- The active-user Bloom filter (hybrid): built and queried at a sampled scale.

  private buildBloom(rng: Rng): void {
    const b = this.sc.topology.bloom;
    const cls = this.cls;
    const N = this.followers;
    const activeFollowers = this.classCount[ONLINE] + this.classCount[ACTIVE];
    const inactive = this.classCount[INACTIVE];
    // The filter is platform-wide: it holds every user active in the last 24 hours (the guide's
    // "10M users"), of whom the celebrity's active followers are a part.
    const fullElements = Math.max(b.users, activeFollowers);
    const plan = planBloom(fullElements, b.falsePositiveRate, b.sampleElements);
    const filter = new SampledBloomFilter(plan);
    // Insert a proportional, evenly spaced sample of the active followers, and fill the rest of
    // the sample with other active users of the platform (who do not follow the celebrity).
    const followerKeys = Math.round((plan.sampleElements * activeFollowers) / fullElements);
    // Evenly spaced picks: k of n in index order, by an error accumulator (no modulo per follower).
    let acc = 0;
    for (let u = 0; u < N && followerKeys > 0; u++) {
      if (cls[u] === INACTIVE) continue;
      acc += followerKeys;
      if (acc >= activeFollowers) {
        acc -= activeFollowers;
        filter.add(`f${u}`);
      }
    }
    for (let i = 0; i < plan.sampleElements - followerKeys; i++) filter.add(`p${i}`);
    // Query an evenly spaced sample of the inactive followers (never inserted): every positive
    // is a false positive, and that follower will be pushed to. The queried ones are marked in
    // `queried` (one bit each) so the extrapolation below skips them.
    const queries = Math.min(b.sampleQueries, inactive);
    const queried = new Uint8Array((N >> 3) + 1);
    let hits = 0;
    acc = 0;
    for (let u = 0; u < N && queries > 0; u++) {
      if (cls[u] !== INACTIVE) continue;
      acc += queries;
      if (acc < inactive) continue;
      acc -= inactive;
      queried[u >> 3] |= 1 << (u & 7);
      if (filter.has(`f${u}`)) {
        cls[u] = INACTIVE_FP;
        hits++;
      }
    }
    // The filter is fixed, so a follower it calls active is called active by every post: the rest
    // of the inactive followers get their verdict once, at the measured rate (geometric skips).
    const measured = queries > 0 ? hits / queries : 0;
    let extrapolated = 0;
    if (measured > 0 && inactive > queries) {
      const logQ = Math.log(1 - measured);
      const gap = () => Math.floor(Math.log(1 - rng.float()) / logQ);
      let next = gap();
      let m = 0;
      for (let u = 0; u < N; u++) {
        if (cls[u] !== INACTIVE || queried[u >> 3] & (1 << (u & 7))) continue;
        if (m === next) {
          cls[u] = INACTIVE_FP;
          extrapolated++;
          next = m + 1 + gap();
        }
        m++;
      }
    }
    this.classCount[INACTIVE] -= hits + extrapolated;
    this.classCount[INACTIVE_FP] = hits + extrapolated;
    this.hasher.add(hits);
    this.hasher.add(extrapolated);
    this.bloomStats = {
      fullScaleElements: fullElements,
      fullScaleBits: plan.fullBits,
      fullScaleBytes: plan.fullBits / 8,
      hashes: plan.hashes,
      bitsPerElement: plan.bitsPerElement,
      activeFollowersOnlyBytes:
        activeFollowers > 0 ? optimalBits(activeFollowers, b.falsePositiveRate) / 8 : 0,
      configuredFpRate: b.falsePositiveRate,
      expectedFpRate: theoreticalFpRate(plan.sampleElements, plan.sampleBits, plan.hashes),
      sampleElements: plan.sampleElements,
      sampleBits: plan.sampleBits,
      sampleQueries: queries,
      sampleFalsePositives: hits,
      measuredFpRate: measured,
      fillFpRate: filter.fillRate(),
      libraryRate: filter.libraryRate(),
      falsePositiveFollowers: hits + extrapolated,
      extrapolatedFalsePositiveFollowers: extrapolated,
    };
  }

  protected nodeIds(): readonly string[] {
    return NODE_IDS;
  }

  protected handle(kind: number, _arg: number, word1: number, now: number): void {
    switch (kind) {
      case EV_CELEBRITY_POST:
        return this.onCelebrityPost(now);
      case EV_POST:
        return this.onPost(now);
      case EV_POOL:
        return this.onPoolChunk(now, word1);
      case EV_READS:
        return this.onReads(now);
      case EV_SAMPLE:
        return this.onSample(now);
    }
  }

  // ---- Posts.

  private scheduleNextPost(now: number): void {
    const rate = this.sc.workload.postsPerSec;
    if (rate <= 0 || this.authors === 0) return;
    const next = Math.max(now + 1, Math.round(now + exponential(this.postRng, 1e6 / rate)));
    if (next <= this.durationUs) this.queue.push(next, word0(EV_POST), 0);
  }

  private onCelebrityPost(now: number): void {
    this.publish(now, -1);
    const next = now + Math.round(3_600e6 / this.sc.workload.celebrityPostsPerHour);
    if (next <= this.durationUs) this.queue.push(next, word0(EV_CELEBRITY_POST), 0);
  }

  private onPost(now: number): void {
    this.publish(now, this.postRng.int(this.authors));
    this.scheduleNextPost(now);
  }

  /** One post by `author` (−1: the celebrity): decide the writes, queue them, draw the readers. */
  private publish(now: number, author: number): void {
    const celebrity = author < 0;
    const N = this.followers;
    const k = celebrity ? N : this.authorFollowers[author];
    const tier = celebrity ? this.celebrityTier : this.authorTier[author];
    const id = this.msgs.add(author + 1, now, this.sc.topology.feedStore.postBytes);
    this.msgs.seq[id] = this.authorSeq[author + 1]++;
    this.flow.produced++;
    this.flow.fanout += k;
    this.writesIfWrite += k;
    this.series.produced[this.series.bucket(now)]++;
    const ts = this.tierStats[tier];
    ts.posts++;
    ts.owed += k;
    const online = celebrity ? this.classCount[ONLINE] : this.authorOnline[author];
    const active = celebrity ? this.classCount[ACTIVE] : this.authorActive[author];
    const fp = celebrity ? this.classCount[INACTIVE_FP] : this.authorFp[author];
    const inactive = celebrity
      ? this.classCount[INACTIVE] + this.classCount[INACTIVE_FP]
      : this.authorInactive[author];
    let targets = 0;
    if (tier === T_WRITE) targets = k;
    else if (tier === T_PUSH) targets = online + active + fp;
    if (tier !== T_WRITE) {
      this.timelineWrites++;
      ts.timelineWrites++;
    }
    if (tier === T_PUSH) {
      this.pushes += targets;
      this.fpPushes += fp;
      ts.pushes += targets;
      ts.falsePositivePushes += fp;
    }
    if (tier === T_READ && this.strategy === 'hybrid') this.cachedPosts++;
    this.feedWrites += targets;
    ts.feedWrites += targets;
    if (celebrity) {
      this.celebrityPosts++;
      this.celebrityOwed += k;
      this.celebrityWrites += targets + (tier === T_WRITE ? 0 : 1);
    }
    const traced = celebrity || id % this.traceEvery === 0;
    if (traced) this.trace.write(TRACE_PUBLISH, now, now, NODE_AUTHORS, NODE_STORE, id, -1);
    this.postLog?.push({
      post: id,
      author,
      tier: TIERS[tier],
      createdUs: now,
      followers: k,
      online,
      active,
      inactive,
      falsePositives: tier === T_PUSH ? fp : 0,
      targets,
    });

    // Followers not written to read the post from the author's timeline at their next open.
    if (tier !== T_WRITE) {
      if (traced) this.trace.write(TRACE_HOP2, now, now, NODE_STORE, NODE_INACTIVE, id, -1);
      if (celebrity) {
        const cls = this.cls;
        const all = tier === T_READ;
        for (let u = 0; u < N; u++) {
          const c = cls[u];
          if (all || c === INACTIVE) this.deliver(id, now, now, c, false, u);
        }
      } else if (tier === T_READ) {
        for (let i = 0; i < online; i++) this.deliver(id, now, now, ONLINE, false, -1);
        for (let i = 0; i < active; i++) this.deliver(id, now, now, ACTIVE, false, -1);
        for (let i = 0; i < inactive; i++) this.deliver(id, now, now, INACTIVE, false, -1);
      } else {
        for (let i = 0; i < inactive - fp; i++) this.deliver(id, now, now, INACTIVE, false, -1);
      }
    }

    if (celebrity && this.firstCelebrityPost < 0) {
      this.firstCelebrityPost = id;
      this.firstCelebrityTargets = targets;
      if (targets === 0) this.firstCelebrityDoneUs = now;
    }
    if (targets > 0) {
      const job = this.newJob(id, author, targets);
      if (!celebrity) {
        this.jobRemOnline[job] = online;
        this.jobRemActive[job] = active;
        this.jobRemInactive[job] = tier === T_WRITE ? inactive : fp;
      }
      if (celebrity && this.firstCelebrityPost === id) this.firstCelebrityJob = job;
      this.queuedWrites += targets;
      if (this.queuedWrites > this.queuedWritesMax) this.queuedWritesMax = this.queuedWrites;
      this.enqueue(job);
      if (!this.poolBusy) this.startChunk(now);
    }
  }

  // ---- The feed writer pool: `writesPerSec` across all shards, served round robin by post, so a
  // small post is not stuck behind a celebrity's ten million writes (each job gets a chunk in turn).

  private newJob(post: number, author: number, targets: number): number {
    if (this.jobs === this.jobPost.length) this.growJobs();
    const j = this.jobs++;
    this.jobPost[j] = post;
    this.jobAuthor[j] = author;
    this.jobTargets[j] = targets;
    this.jobDone[j] = 0;
    this.jobCursor[j] = 0;
    return j;
  }

  private enqueue(job: number): void {
    if (this.ringSize === this.ring.length) {
      const bigger = new Int32Array(this.ring.length * 2);
      for (let i = 0; i < this.ringSize; i++)
        bigger[i] = this.ring[(this.ringHead + i) % this.ring.length];
      this.ring = bigger;
      this.ringHead = 0;
    }
    this.ring[(this.ringHead + this.ringSize) % this.ring.length] = job;
    this.ringSize++;
  }

  private startChunk(now: number): void {
    if (this.ringSize === 0) {
      this.poolBusy = false;
      return;
    }
    const job = this.ring[this.ringHead];
    this.ringHead = (this.ringHead + 1) % this.ring.length;
    this.ringSize--;
    const writes = Math.min(
      this.sc.topology.feedStore.chunkWrites,
      this.jobTargets[job] - this.jobDone[job],
    );
    const durUs = Math.max(1, Math.round(writes * this.writeUsPerWrite));
    this.poolBusy = true;
    this.chunkWrites = writes;
    this.chunkStartUs = now;
    this.poolBusyUs += durUs;
    this.series.serverBusyUs[this.series.bucket(now)] += durUs;
    this.queue.push(now + durUs, word0(EV_POOL), job);
  }

  /** A chunk of feed writes has completed: each written follower's visibility is drawn now. */
  private onPoolChunk(now: number, job: number): void {
    const writes = this.chunkWrites;
    const start = this.chunkStartUs;
    const stepUs = (now - start) / writes;
    const post = this.jobPost[job];
    const created = this.msgs.createdUs[post];
    const traced = this.jobAuthor[job] < 0 || post % this.traceEvery === 0;
    const before = this.notifications;
    if (this.jobAuthor[job] < 0) {
      // The celebrity's followers in list order; the push tier skips those the filter rules out.
      const cls = this.cls;
      const all = this.celebrityTier === T_WRITE;
      let u = this.jobCursor[job];
      for (let i = 0; i < writes; i++) {
        while (!all && cls[u] === INACTIVE) u++;
        const at = Math.round(start + (i + 1) * stepUs);
        this.deliver(post, created, at, cls[u], true, u);
        if (
          traced &&
          cls[u] === ONLINE &&
          this.notifications - before <= TRACE_NOTIFICATIONS_PER_CHUNK
        )
          this.trace.write(TRACE_HOP1, at, at, NODE_STORE, NODE_ONLINE, post, u);
        u++;
      }
      this.jobCursor[job] = u;
    } else {
      // Anonymous followers: each write goes to a follower of a class drawn without replacement.
      const rng = this.visRng;
      let on = this.jobRemOnline[job];
      let act = this.jobRemActive[job];
      let inactive = this.jobRemInactive[job];
      const fpClass = this.authorTier[this.jobAuthor[job]] === T_PUSH ? INACTIVE_FP : INACTIVE;
      for (let i = 0; i < writes; i++) {
        const r = rng.float() * (on + act + inactive);
        let c: number;
        if (r < on) {
          c = ONLINE;
          on--;
        } else if (r < on + act) {
          c = ACTIVE;
          act--;
        } else {
          c = fpClass;
          inactive--;
        }
        this.deliver(post, created, Math.round(start + (i + 1) * stepUs), c, true, -1);
      }
      this.jobRemOnline[job] = on;
      this.jobRemActive[job] = act;
      this.jobRemInactive[job] = inactive;
    }
    if (traced) this.trace.write(TRACE_HOP2, start, now, NODE_STORE, NODE_ACTIVE, post, -1);
    const bytes = writes * this.sc.topology.feedStore.entryBytes;
    this.series.hop2Bytes[this.series.bucket(now)] += bytes;
    this.feedWritesDone += writes;
    this.queuedWrites -= writes;
    this.jobDone[job] += writes;
    if (this.jobDone[job] < this.jobTargets[job]) this.enqueue(job);
    else if (job === this.firstCelebrityJob) this.firstCelebrityDoneUs = now;
    this.startChunk(now);
  }

  // ---- Visibility: when a follower first sees a post.

  /**
   * Draws when follower `user` (class `c`) sees post `post`, which reached them at `availUs`
   * (their feed entry was written, or — `written` false — the post was stored in the author's
   * timeline). Feed opens are Poisson per follower, so the first open after any instant is that
   * instant plus an exponential gap (memoryless): the first open after the post is drawn, and if
   * it came before the post reached the feed (a stale feed), the first open after that. An online
   * follower whose feed was written also gets a live push. Each (follower, post) pair draws its
   * own opens — exact for the pair; one open showing two posts at once is not modelled.
   */
  private deliver(
    post: number,
    createdUs: number,
    availUs: number,
    c: number,
    written: boolean,
    user: number,
  ): void {
    const rng = this.visRng;
    const meanUs = this.openMeanUs[c];
    const firstOpen = createdUs - meanUs * Math.log(1 - rng.float());
    const stale = firstOpen < availUs;
    const openAt = stale ? availUs - meanUs * Math.log(1 - rng.float()) : firstOpen;
    let visible = -1;
    let push = false;
    if (written && c === ONLINE) {
      const latencyUs = Math.round(this.pushLatencyMs() * 1000);
      this.notifications++;
      this.notifyHist.record(latencyUs);
      this.series.hop1Bytes[this.series.bucket(availUs)] += this.sc.topology.feedStore.postBytes;
      visible = availUs + latencyUs;
      push = true;
    }
    if (openAt < this.durationUs && (!push || openAt < visible)) {
      const table = this.readTables[c];
      const seenAt = Math.ceil(openAt + table[rng.u32() & (READ_TABLE_SIZE - 1)]);
      if (!push || seenAt < visible) {
        visible = seenAt;
        push = false;
      }
    }
    if (visible < 0) visible = Math.ceil(openAt);
    if (visible < availUs) visible = availUs;
    this.hasher.add(visible);
    if (visible < this.durationUs) {
      this.calendar.add(
        visible,
        post * 2 + (push ? 1 : 0),
        visible - availUs,
        stale ? visible - firstOpen : -1,
      );
    } else this.notYetSeen++;
    this.log?.push({
      post,
      user,
      cls: c,
      written,
      createdUs,
      availableUs: availUs,
      visibleUs: visible < this.durationUs ? visible : -1,
      viaPush: push && visible < this.durationUs,
    });
  }

  private readonly accept = (
    visibleUs: number,
    tagged: number,
    waitUs: number,
    staleUs: number,
  ): void => {
    const post = tagged >> 1;
    const e2eUs = visibleUs - this.msgs.createdUs[post];
    const wait = Math.round(waitUs);
    this.flow.delivered++;
    this.e2eHist.record(e2eUs);
    this.intervalHist.record(e2eUs);
    this.hop1Hist.record(wait);
    this.hop2Hist.record(Math.max(0, e2eUs - wait));
    this.series.delivered[this.series.bucket(visibleUs)]++;
    if (staleUs >= 0) {
      this.staleSeen++;
      this.staleHist.record(Math.round(staleUs));
    }
    if (this.msgs.channel[post] === 0) this.celebritySeen++;
    if (tagged & 1) this.pushSeen++;
  };

  private flush(untilUs: number): void {
    this.calendar.flush(untilUs, this.accept);
    // Counted from where the owed deliveries are, not as a difference, so conservation is a check.
    this.flow.inFlight = this.queuedWrites + this.calendar.size + this.notYetSeen;
  }

  // ---- Feed opens: their cost and latency (the read side of each strategy).

  private onReads(now: number): void {
    const tickUs = now - this.lastReadTickUs;
    this.lastReadTickUs = now;
    const counts = [
      this.classCount[ONLINE],
      this.classCount[ACTIVE],
      this.classCount[INACTIVE] + this.classCount[INACTIVE_FP],
    ];
    for (let c = 0; c < 3; c++) {
      const n =
        counts[c] > 0 ? poisson(this.readRng, (counts[c] * tickUs) / this.openMeanUs[c]) : 0;
      for (let i = 0; i < n; i++) {
        const us = Math.round(this.readPath.draw(c));
        this.readHist.record(us);
        this.readClassHist[c].record(us);
        this.opens[c]++;
        this.readOps[c] += this.readPath.ops;
        this.readTimelines += this.readPath.timelines;
      }
      this.hasher.add(n);
    }
    const next = Math.min(now + READ_TICK_US, this.durationUs);
    if (next > now) this.queue.push(next, word0(EV_READS), 0);
  }

  // ---- Sampling.

  private onSample(now: number): void {
    this.flush(now);
    const h = this.intervalHist;
    this.series.close(
      now,
      {
        p50: h.percentileUs(50),
        p99: h.percentileUs(99),
        max: h.percentileUs(100),
        count: h.count,
      },
      this.flow.inFlight,
      [this.queuedWrites],
      Int32Array.of(this.classCount[ONLINE]),
    );
    h.reset();
    const next = Math.min(now + this.series.intervalUs, this.durationUs);
    if (next > now) this.queue.push(next, word0(EV_SAMPLE), 0);
  }

  // ---- Views of the state.

  private readClass(c: number): FanoutReadClassStats {
    const h = this.readClassHist[c];
    return {
      opens: this.opens[c],
      opsPerOpen: this.opens[c] > 0 ? this.readOps[c] / this.opens[c] : 0,
      p50Ms: h.percentileUs(50) / 1000,
      p99Ms: h.percentileUs(99) / 1000,
    };
  }

  /** The fan-out figures so far (call after a flush). */
  stats(): FanoutStats {
    const t = this.sc.topology;
    const fs = t.feedStore;
    const now = this.nowUsValue;
    const posts = this.flow.produced;
    const writes = this.feedWrites + this.timelineWrites;
    const opens = this.opens[0] + this.opens[1] + this.opens[2];
    const ops = this.readOps[0] + this.readOps[1] + this.readOps[2];
    const feedBytes = this.feedWritesDone * fs.entryBytes;
    const timelineBytes = this.timelineWrites * fs.entryBytes;
    const cacheBytes = this.cachedPosts * fs.postBytes;
    const firstDone =
      this.firstCelebrityPost < 0
        ? 0
        : this.firstCelebrityJob < 0
          ? 1
          : this.jobDone[this.firstCelebrityJob] / this.jobTargets[this.firstCelebrityJob];
    return {
      strategy: this.strategy,
      celebrityTier: TIERS[this.celebrityTier],
      celebrityThreshold: t.strategy.celebrityThreshold,
      activeThreshold: t.strategy.activeThreshold,
      followers: this.followers,
      activeFollowers: this.classCount[ONLINE] + this.classCount[ACTIVE],
      onlineFollowers: this.classCount[ONLINE],
      inactiveFollowers: this.classCount[INACTIVE] + this.classCount[INACTIVE_FP],
      posts,
      celebrityPosts: this.celebrityPosts,
      feedWrites: this.feedWrites,
      feedWritesDone: this.feedWritesDone,
      timelineWrites: this.timelineWrites,
      writes,
      writesIfFanoutOnWrite: this.writesIfWrite,
      writeLoadReduction: this.writesIfWrite > 0 ? 1 - writes / this.writesIfWrite : 0,
      writeAmplification: posts > 0 ? writes / posts : 0,
      celebrityWriteAmplification:
        this.celebrityPosts > 0 ? this.celebrityWrites / this.celebrityPosts : 0,
      celebrityFanoutS:
        this.firstCelebrityDoneUs >= 0
          ? (this.firstCelebrityDoneUs - this.msgs.createdUs[this.firstCelebrityPost]) / 1e6
          : null,
      celebrityFanoutDone: firstDone,
      celebrityFanoutIdealS: (this.firstCelebrityTargets * this.writeUsPerWrite) / 1e6,
      pushes: this.pushes,
      falsePositivePushes: this.fpPushes,
      notifications: this.notifications,
      notificationLatencyMs: this.notifyHist.summary(),
      reads: {
        opens,
        opsPerOpen: opens > 0 ? ops / opens : 0,
        timelinesPerOpen: opens > 0 ? this.readTimelines / opens : 0,
        latencyMs: this.readHist.summary(),
        online: this.readClass(0),
        active: this.readClass(1),
        inactive: this.readClass(2),
      },
      storage: {
        feedEntries: this.feedWritesDone,
        feedBytes,
        timelineEntries: this.timelineWrites,
        timelineBytes,
        cacheBytes,
        totalBytes: feedBytes + timelineBytes + cacheBytes,
      },
      staleness: {
        staleSeen: this.staleSeen,
        staleShare: this.flow.delivered > 0 ? this.staleSeen / this.flow.delivered : 0,
        waitMs: this.staleHist.summary(),
      },
      visibility: {
        owed: this.flow.fanout,
        seen: this.flow.delivered,
        notYetSeen: this.flow.inFlight,
        celebrityOwed: this.celebrityOwed,
        celebritySeen: this.celebritySeen,
        viaPush: this.pushSeen,
        viaOpen: this.flow.delivered - this.pushSeen,
      },
      writerPool: {
        writesPerSec: fs.writesPerSec,
        busyShare: now > 0 ? Math.min(1, this.poolBusyUs / now) : 0,
        queuedWrites: this.queuedWrites,
        queuedWritesMax: this.queuedWritesMax,
      },
      followShares: { ...this.followShares },
      tiers: this.tierStats.map((s) => ({ ...s })),
      bloom: this.bloomStats ? { ...this.bloomStats } : null,
    };
  }

  private linkStats(elapsedS: number): LinkStats[] {
    const fs = this.sc.topology.feedStore;
    const perSec = (bytes: number) => (elapsedS > 0 ? bytes / elapsedS : 0);
    const writeBytes = (this.feedWritesDone + this.timelineWrites) * fs.entryBytes;
    const pushBytes = this.notifications * fs.postBytes;
    return [
      {
        id: 'authors->feed-store',
        hop: 'hop2',
        from: 'authors',
        to: 'feed-store',
        messages: this.feedWritesDone + this.timelineWrites,
        bytes: writeBytes,
        bytesPerSec: perSec(writeBytes),
      },
      {
        id: 'feed-store->followers-online',
        hop: 'hop1',
        from: 'feed-store',
        to: 'followers-online',
        messages: this.notifications,
        bytes: pushBytes,
        bytesPerSec: perSec(pushBytes),
      },
    ];
  }

  private serverStats(now: number): ServerStats[] {
    const fs = this.sc.topology.feedStore;
    const stored =
      this.feedWritesDone * fs.entryBytes +
      this.timelineWrites * fs.entryBytes +
      this.cachedPosts * fs.postBytes;
    return [
      {
        id: 'feed-writers',
        connections: this.classCount[ONLINE],
        cpuUtilisation: now > 0 ? Math.min(1, this.poolBusyUs / now) : 0,
        queueLength: this.queuedWrites,
        queueLengthMax: this.queuedWritesMax,
        memoryMB: stored / (1024 * 1024),
      },
    ];
  }

  snapshot(): FanoutSnapshot {
    this.flush(this.done ? this.durationUs : this.nowUsValue);
    const snap = this.baseSnapshot({
      flow: this.flow,
      e2e: this.e2eHist,
      hop2: this.hop2Hist,
      hop1: this.hop1Hist,
      links: (elapsedS) => this.linkStats(elapsedS),
      servers: (now) => this.serverStats(now),
      rejectedConnections: 0,
      series: this.series.toSeries(),
    });
    return Object.assign(snap, { fanout: this.stats() });
  }

  result(wallMs: number): FanoutRunResult {
    const snap = this.snapshot();
    const base = this.baseResult(snap, wallMs);
    return Object.assign(base, { simBytesPerUser: this.bytesPerUser(), fanoutStats: snap.fanout });
  }

  /** Typed-array bytes of per-follower state (and pending visibilities), per follower. */
  bytesPerUser(): number {
    const bytes = this.cls.byteLength + this.calendar.byteLength;
    return Math.round((bytes / this.followers) * 10) / 10;
  }

  topology(): Topology {
    const c = this.classCount;
    return {
      nodes: [
        { id: 'authors', kind: 'source', label: 'Authors', count: this.authors + 1 },
        { id: 'feed-store', kind: 'broker', label: 'Feed store', count: 1 },
        {
          id: 'followers-online',
          kind: 'users',
          label: 'online',
          count: c[ONLINE],
          parent: 'feed-store',
        },
        {
          id: 'followers-active',
          kind: 'users',
          label: 'active',
          count: c[ACTIVE],
          parent: 'feed-store',
        },
        {
          id: 'followers-inactive',
          kind: 'users',
          label: 'inactive',
          count: c[INACTIVE] + c[INACTIVE_FP],
          parent: 'feed-store',
        },
      ],
      edges: [
        { id: 'authors->feed-store', from: 'authors', to: 'feed-store', hop: 'hop2' },
        {
          id: 'feed-store->followers-online',
          from: 'feed-store',
          to: 'followers-online',
          hop: 'hop1',
        },
        {
          id: 'feed-store->followers-active',
          from: 'feed-store',
          to: 'followers-active',
          hop: 'hop1',
        },
        {
          id: 'feed-store->followers-inactive',
          from: 'feed-store',
          to: 'followers-inactive',
          hop: 'hop1',
        },
      ],
    };
  }

  /** Per-follower classes (ONLINE, ACTIVE, INACTIVE, INACTIVE_FP from ./reads.ts), for tests. */
  followerClasses(): Uint8Array {
    return this.cls;
  }

  /** With `recordDeliveries`: every (follower, post) outcome drawn so far and every post. */
  deliveryLog(): { deliveries: DeliveryRecord[]; posts: PostRecord[] } {
    return { deliveries: this.log ?? [], posts: this.postLog ?? [] };
  }

  /** Writes still owed by the writer pool (their followers' visibility is not drawn yet). */
  get poolBacklog(): number {
    return this.queuedWrites;
  }

  dispose(): void {
    this.e2eHist.destroy();
    this.hop2Hist.destroy();
    this.hop1Hist.destroy();
    this.intervalHist.destroy();
    this.notifyHist.destroy();
    this.staleHist.destroy();
    this.readHist.destroy();
    for (const h of this.readClassHist) h.destroy();
  }

  private growJobs(): void {
    const n = this.jobPost.length * 2;
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.jobPost = g32(this.jobPost);
    this.jobAuthor = g32(this.jobAuthor);
    this.jobTargets = g64(this.jobTargets);
    this.jobDone = g64(this.jobDone);
    this.jobCursor = g64(this.jobCursor);
    this.jobRemOnline = g64(this.jobRemOnline);
    this.jobRemActive = g64(this.jobRemActive);
    this.jobRemInactive = g64(this.jobRemInactive);
  }
}
