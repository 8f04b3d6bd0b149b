// The live scoreboard (the guide's Example 7) on the broadcast fabric: game feeds, ingestion, Kafka per game, priorities, and the cache tiers pages load through.
import { sampler, type Sampler } from '../../dist.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { Rng } from '../../rng.ts';
import type { AppHost, AppResult, CaseApp, FabricSummary } from '../app.ts';
import { espnFigures } from './figures.ts';
import type { EspnSpec } from './schema.ts';

// App event kinds (low 3 bits of the argument); the rest is a game.
const EV_FEED = 0; // the game's next feed event
const EV_PUBLISH = 1; // word1: event — it leaves its Kafka partition to the WebSocket servers
const EV_LOAD = 2; // a page load of the game (static assets, then the game's state)
const EV_DB_DONE = 3; // word1: 1 if the query refreshes the cache — a database query finished
const EV_END = 4; // GAME_END
const EV_STATE = 5; // word1: µs since the page load — its request for the game's state
const KIND_BITS = 3;

/** Event types, their classes (P0 score and game end, P1 timeout, P2 substitution and stats). */
const TYPE_SCORE = 0;
const TYPE_TIMEOUT = 1;
const TYPE_SUBSTITUTION = 2;
const TYPE_STAT = 3;
const TYPE_END = 4;
const CLASS_OF = [0, 1, 2, 2, 0];
/** Feed-to-viewer latency is recorded for one subscription in this many. */
const LATENCY_STRIDE = 8;

/** A growable Float64Array / Int32Array pair indexed by event or message. */
class Column {
  f = new Float64Array(1024);
  i = new Int32Array(1024);
  ensure(n: number): void {
    if (n < this.f.length) return;
    let size = this.f.length;
    while (size <= n) size *= 2;
    const f = new Float64Array(size);
    f.set(this.f);
    const i = new Int32Array(size);
    i.set(this.i);
    this.f = f;
    this.i = i;
  }
}

export class EspnApp implements CaseApp {
  readonly source = { label: 'Game feed', role: 'ingestion · Kafka' };
  private host!: AppHost;
  private rng!: Rng;
  private readonly spec: EspnSpec;
  private games = 0;
  /** Per game: its score's version (one per SCORE_UPDATE) and the partition's last hand-off. */
  private scoreVersion!: Int32Array;
  private partitionFreeUs!: Float64Array;
  private ingestFreeUs = 0;
  private kafkaMs!: Sampler;
  /** Per feed event: its type, feed time and the game's score version after it. */
  private readonly events = { type: new Column(), feedUs: new Column(), score: new Column() };
  private nEvents = 0;
  /** Per message (the fabric's id): its class, score version and feed time. */
  private readonly msgs = { meta: new Column(), feedUs: new Column() };
  /** Per slot: the last score version shown, taking it from score updates only, or from any message. */
  private shownP0!: Int32Array;
  private shownAny!: Int32Array;
  private backwardsP0 = 0;
  private backwardsAny = 0;
  private readonly feedToViewer = [
    new LatencyHistogram(),
    new LatencyHistogram(),
    new LatencyHistogram(),
  ];
  /** A score's broadcast: from leaving Kafka (publish) to the viewer's screen. */
  private readonly scoreBroadcast = new LatencyHistogram();
  private feedEvents = 0;
  private duplicates = 0;
  private published = 0;
  private readonly byType = new Int32Array(5);

  // Caches.
  private cdnExpiry!: Float64Array;
  private assetCum!: Float64Array;
  private originMs!: Sampler;
  private cdnHits = 0;
  private cdnMisses = 0;
  private redisExpiry!: Float64Array;
  private refreshUntil!: Float64Array;
  private redisHits = 0;
  private redisStale = 0;
  private redisCollapsed = 0;
  private redisMisses = 0;
  private hitMs!: Sampler;
  private dbFree!: Float64Array;
  private queryMs!: Sampler;
  private dbQueries = 0;
  private dbPerSec: number[] = [];
  private readonly scoresPerSec: number[] = [];
  private dbQueued = 0;
  private readonly apiLatency = new LatencyHistogram();
  private loads = 0;
  private herdLoads = 0;

  constructor(spec: EspnSpec) {
    this.spec = spec;
  }

  start(host: AppHost): void {
    this.host = host;
    this.rng = host.rng;
    const p = host.pop;
    this.games = p.channels;
    this.scoreVersion = new Int32Array(this.games);
    this.partitionFreeUs = new Float64Array(this.games);
    this.kafkaMs = sampler(this.spec.ingestion.kafkaMs, this.rng.fork('kafka'));
    this.shownP0 = new Int32Array(p.slotUser.length);
    this.shownAny = new Int32Array(p.slotUser.length);
    const c = this.spec.cache;
    this.originMs = sampler(c.cdn.originMs, this.rng.fork('origin'));
    this.hitMs = sampler(c.redis.hitMs, this.rng.fork('redis'));
    this.queryMs = sampler(c.database.queryMs, this.rng.fork('db'));
    this.dbFree = new Float64Array(c.database.connections);
    this.redisExpiry = new Float64Array(this.games);
    this.refreshUntil = new Float64Array(this.games);
    this.warmCdn();
    for (let g = 0; g < this.games; g++) {
      this.nextFeed(0, g);
      this.nextLoad(0, g);
      // Every game's state is cached at the start, expiring within one TTL.
      this.redisExpiry[g] = Math.round(this.rng.float() * c.redis.ttlS * 1e6);
      this.at(host.durationUs - 1, EV_END, g);
    }
  }

  /**
   * The CDN in its steady state: an asset is cached at an edge if it was requested there within
   * the TTL — with probability 1 − e^(−λ·TTL) for its request rate λ — and then expires
   * uniformly within the TTL. A cold start would count a day's misses in a minute.
   */
  private warmCdn(): void {
    const cdn = this.spec.cache.cdn;
    const A = cdn.assets;
    this.assetCum = new Float64Array(A);
    let total = 0;
    for (let a = 0; a < A; a++) {
      total += Math.exp(-cdn.assetZipf * Math.log(a + 1));
      this.assetCum[a] = total;
    }
    for (let a = 0; a < A; a++) this.assetCum[a] /= total;
    let viewers = 0;
    for (let g = 0; g < this.games; g++) viewers += this.host.subscribers(g);
    const pagesPerSec = (viewers * this.spec.cache.loadsPerViewerPerMin) / 60;
    const ttlUs = cdn.ttlS * 1e6;
    this.cdnExpiry = new Float64Array(cdn.edges * A);
    for (let a = 0; a < A; a++) {
      const p = this.assetCum[a] - (a > 0 ? this.assetCum[a - 1] : 0);
      const perEdge = (pagesPerSec * cdn.assetsPerPage * p) / cdn.edges;
      const cached = 1 - Math.exp(-perEdge * cdn.ttlS);
      for (let e = 0; e < cdn.edges; e++)
        if (this.rng.float() < cached) this.cdnExpiry[e * A + a] = this.rng.float() * ttlUs;
    }
  }

  private at(us: number, kind: number, game: number, word1 = 0): void {
    if (us <= this.host.durationUs) this.host.schedule(us, (game << KIND_BITS) | kind, word1);
  }

  handle(now: number, arg: number, word1: number): void {
    const kind = arg & ((1 << KIND_BITS) - 1);
    const game = arg >>> KIND_BITS;
    switch (kind) {
      case EV_FEED:
        return this.onFeed(now, game);
      case EV_PUBLISH:
        return this.onPublish(now, game, word1);
      case EV_LOAD:
        // word1 1: a steady load (the next is drawn); 0: a reload of the herd.
        if (word1 === 1) this.nextLoad(now, game);
        return this.onLoad(now, game);
      case EV_STATE:
        return this.stateRequest(now, game, now - word1);
      case EV_DB_DONE:
        return this.onDbDone(now, game, word1);
      case EV_END:
        return this.ingest(now, game, TYPE_END);
    }
  }

  // ---- Feed → ingestion → Kafka → the WebSocket servers.

  private nextFeed(now: number, game: number): void {
    const rate = this.spec.feed.updatesPerGamePerMin / 60;
    const gap = (-Math.log(1 - this.rng.float()) / rate) * 1e6;
    this.at(Math.max(now + 1, Math.round(now + gap)), EV_FEED, game);
  }

  private onFeed(now: number, game: number): void {
    this.nextFeed(now, game);
    const m = this.spec.feed.mix;
    const x = this.rng.float();
    const type =
      x < m.score
        ? TYPE_SCORE
        : x < m.score + m.timeout
          ? TYPE_TIMEOUT
          : x < m.score + m.timeout + m.substitution
            ? TYPE_SUBSTITUTION
            : TYPE_STAT;
    this.ingest(now, game, type);
    // The feed sends some events twice; the ingestion drops the copy (by event id).
    if (this.rng.float() < this.spec.feed.duplicateShare) {
      this.feedEvents++;
      this.duplicates++;
    }
  }

  /** Validate, enrich, deduplicate; then the game's Kafka partition, in order. */
  private ingest(now: number, game: number, type: number): void {
    this.feedEvents++;
    this.byType[type]++;
    const start = now > this.ingestFreeUs ? now : this.ingestFreeUs;
    this.ingestFreeUs = start + this.spec.ingestion.serviceUs;
    const e = this.nEvents++;
    const ev = this.events;
    ev.type.ensure(e);
    ev.feedUs.ensure(e);
    ev.score.ensure(e);
    if (type === TYPE_SCORE) this.scoreVersion[game]++;
    ev.type.i[e] = type;
    ev.feedUs.f[e] = now;
    ev.score.i[e] = this.scoreVersion[game];
    const out = Math.max(
      this.partitionFreeUs[game],
      Math.round(this.ingestFreeUs + this.kafkaMs() * 1000),
    );
    this.partitionFreeUs[game] = out;
    this.at(out, EV_PUBLISH, game, e);
  }

  private onPublish(now: number, game: number, e: number): void {
    const ev = this.events;
    const type = ev.type.i[e];
    const id = this.host.publish(now, game, CLASS_OF[type]);
    this.published++;
    const m = this.msgs;
    m.meta.ensure(id);
    m.feedUs.ensure(id);
    m.meta.i[id] = (ev.score.i[e] << 3) | CLASS_OF[type];
    m.feedUs.f[id] = ev.feedUs.f[e];
    if (type === TYPE_SCORE) {
      const sec = Math.floor(now / 1e6);
      while (this.scoresPerSec.length <= sec) this.scoresPerSec.push(0);
      this.scoresPerSec[sec]++;
      // A score invalidates the cached state at once, and sends some viewers to reload.
      this.redisExpiry[game] = 0;
      this.herd(now, game);
    }
  }

  delivered(slot: number, _user: number, message: number, arrivalUs: number): void {
    if (arrivalUs > this.host.durationUs) return;
    const meta = this.msgs.meta.i[message];
    const klass = meta & 7;
    const score = meta >>> 3;
    // Latency is sampled on every LATENCY_STRIDE-th subscription (a fixed, unbiased subset); the
    // score check below sees every delivery.
    if (klass < 3 && slot % LATENCY_STRIDE === 0) {
      this.feedToViewer[klass].record(arrivalUs - this.msgs.feedUs.f[message]);
      if (klass === 0) this.scoreBroadcast.record(arrivalUs - this.host.msgCreatedUs(message));
    }
    // Deliveries reach this hook in each viewer's arrival order (one TCP stream per viewer).
    if (klass === 0) {
      if (score < this.shownP0[slot]) this.backwardsP0++;
      else this.shownP0[slot] = score;
    }
    if (score < this.shownAny[slot]) this.backwardsAny++;
    else this.shownAny[slot] = score;
  }

  // ---- Page loads through the CDN, Redis and the database.

  private nextLoad(now: number, game: number): void {
    const rate = (this.host.subscribers(game) * this.spec.cache.loadsPerViewerPerMin) / 60;
    if (rate <= 0) return;
    const gap = (-Math.log(1 - this.rng.float()) / rate) * 1e6;
    this.at(Math.max(now + 1, Math.round(now + gap)), EV_LOAD, game, 1);
  }

  /** The viewers who reload when a score reaches them (the thundering herd). */
  private herd(now: number, game: number): void {
    const c = this.spec.cache;
    const n = Math.round(this.host.subscribers(game) * c.reloadOnScoreShare);
    for (let i = 0; i < n; i++)
      this.at(now + Math.round(this.rng.float() * c.reloadSpreadMs * 1000), EV_LOAD, game, 0);
    this.herdLoads += n;
  }

  private onLoad(now: number, game: number): void {
    this.loads++;
    const cdn = this.spec.cache.cdn;
    let ready = now;
    for (let k = 0; k < cdn.assetsPerPage; k++) {
      const edge = this.rng.int(cdn.edges);
      const asset = pick(this.assetCum, this.rng.float());
      const i = edge * cdn.assets + asset;
      if (this.cdnExpiry[i] > now) this.cdnHits++;
      else {
        this.cdnMisses++;
        this.cdnExpiry[i] = now + cdn.ttlS * 1e6;
        ready = Math.max(ready, now + this.originMs() * 1000);
      }
    }
    // The page asks for the game's state once its assets are there.
    const at = Math.round(ready);
    if (at > now) this.at(at, EV_STATE, game, at - now);
    else this.stateRequest(now, game, now);
  }

  /** GET the game's state: Redis, or the database behind it. */
  private stateRequest(now: number, game: number, loadUs: number): void {
    const r = this.spec.cache.redis;
    const expiry = this.redisExpiry[game];
    if (expiry > now) {
      this.redisHits++;
      this.apiLatency.record(now - loadUs + this.hitMs() * 1000);
      return;
    }
    const inFlight = this.refreshUntil[game] > now;
    if (expiry > 0 && now < expiry + r.staleWhileRevalidateS * 1e6) {
      // Stale but allowed: serve it, and refresh once in the background.
      this.redisStale++;
      this.apiLatency.record(now - loadUs + this.hitMs() * 1000);
      if (!inFlight) this.query(now, game, true);
      return;
    }
    if (r.collapsing === 'on' && inFlight) {
      this.redisCollapsed++;
      this.apiLatency.record(this.refreshUntil[game] - loadUs);
      return;
    }
    this.redisMisses++;
    const done = this.query(now, game, true);
    this.apiLatency.record(done - loadUs);
  }

  /** One query on the database's connection pool; the cache is set when it returns. */
  private query(now: number, game: number, refresh: boolean): number {
    const pool = this.dbFree;
    let c = 0;
    for (let k = 1; k < pool.length; k++) if (pool[k] < pool[c]) c = k;
    // Every connection busy: the query waits for the first to free up.
    if (pool[c] > now) this.dbQueued++;
    const start = pool[c] > now ? pool[c] : now;
    const done = Math.round(start + this.queryMs() * 1000);
    pool[c] = done;
    this.dbQueries++;
    const sec = Math.floor(now / 1e6);
    while (this.dbPerSec.length <= sec) this.dbPerSec.push(0);
    this.dbPerSec[sec]++;
    if (done > this.refreshUntil[game]) this.refreshUntil[game] = done;
    this.at(done, EV_DB_DONE, game, refresh ? 1 : 0);
    return done;
  }

  private onDbDone(now: number, game: number, refresh: number): void {
    if (refresh && this.redisExpiry[game] <= now)
      this.redisExpiry[game] = now + this.spec.cache.redis.ttlS * 1e6;
  }

  // ---- What the run measured.

  stats(fabric: FabricSummary) {
    const ratio = (hit: number, total: number) => (total > 0 ? hit / total : null);
    const redisTotal = this.redisHits + this.redisStale + this.redisCollapsed + this.redisMisses;
    const s = (h: LatencyHistogram) => {
      const x = h.summary();
      return { p50: x.p50, p99: x.p99, max: x.max, count: x.count };
    };
    let popular = 0;
    for (let g = 0; g < this.games; g++) popular = Math.max(popular, this.host.subscribers(g));
    return {
      games: this.games,
      popularGameViewers: popular,
      feed: {
        events: this.feedEvents,
        duplicatesDropped: this.duplicates,
        published: this.published,
        byType: {
          score: this.byType[TYPE_SCORE],
          timeout: this.byType[TYPE_TIMEOUT],
          substitution: this.byType[TYPE_SUBSTITUTION],
          stat: this.byType[TYPE_STAT],
          gameEnd: this.byType[TYPE_END],
        },
        perGamePerMin: fabric.nowUs > 0 ? (this.published / this.games) * (60e6 / fabric.nowUs) : 0,
      },
      scoreBroadcastMs: s(this.scoreBroadcast),
      feedToViewerMs: {
        P0: s(this.feedToViewer[0]),
        P1: s(this.feedToViewer[1]),
        P2: s(this.feedToViewer[2]),
      },
      scoreWentBackwards: {
        fromScoreUpdatesOnly: this.backwardsP0,
        fromAnyMessage: this.backwardsAny,
      },
      bytesPerSecPerViewer: fabric.bytesPerSecPerUser ?? null,
      cache: {
        cdn: {
          hitRate: ratio(this.cdnHits, this.cdnHits + this.cdnMisses),
          originRequests: this.cdnMisses,
        },
        redis: {
          hitRate: ratio(this.redisHits + this.redisStale + this.redisCollapsed, redisTotal),
          stale: this.redisStale,
          collapsed: this.redisCollapsed,
          originRequests: this.dbQueries,
        },
        database: {
          queries: this.dbQueries,
          peakPerSec: this.dbPerSec.reduce((a, b) => Math.max(a, b), 0),
          queuedForAConnection: this.dbQueued,
          /** Queries started in each second of the run: the herd shows as spikes after scores. */
          perSecond: [...this.dbPerSec],
        },
        /** Scores published in each second, to read the spikes against. */
        scoresPerSecond: [...this.scoresPerSec],
        loads: this.loads,
        herdLoads: this.herdLoads,
        stateLatencyMs: s(this.apiLatency),
      },
    };
  }

  result(fabric: FabricSummary): AppResult {
    const stats = this.stats(fabric);
    return { ...stats, guideFigures: espnFigures(this.spec, stats, fabric, this.host) };
  }

  dispose(): void {
    for (const h of this.feedToViewer) h.destroy();
    this.scoreBroadcast.destroy();
    this.apiLatency.destroy();
  }
}

/** The first index whose cumulative weight exceeds x. */
function pick(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export type EspnStats = ReturnType<EspnApp['stats']>;
