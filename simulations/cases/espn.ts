// The guide's Example 7: 50 games, a popular one with ~1M viewers, scores first, and the cache tiers the pages load through.
import { num, choice } from '../shared/params.ts';
import { shapedTwoHop } from '../shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'espn',
  title: 'ESPN: a live scoreboard for 50 games',
  summary:
    '50 games through ingestion and Kafka to 1.3M viewers, scores ahead of statistics, and the CDN → Redis → database tiers under a reload herd.',
  prose: `The guide's scoreboard. The **official feed** sends each game's events — SCORE_UPDATE, TIMEOUT, SUBSTITUTION, STAT_UPDATE and at the end GAME_END — about 150 a minute. The **ingestion service** validates, enriches and drops the feed's duplicates, and each game's events go through **its own Kafka partition** (in order) to the WebSocket farm, where Redis pub/sub spreads them to the servers holding the game's viewers. Interest is skewed: the popular game has about 1M of the 1.3M viewers.

Events have **priorities**: scores and the game's end are P0 and go at once, timeouts P1, substitutions and statistics P2, batched per connection every second. Read *the guide's figures*: feed-to-viewer latency by class, the bandwidth per viewer, and what a client sees if it takes the score from every message — a statistic published before a goal but batched arrives after it, and a naive scoreboard goes back.

Pages load through three tiers: the **CDN** for logos and photos (24 h TTL), **Redis** for the game's state (a short TTL; a score invalidates it) and the **database** behind it. After a goal some viewers reload at once: with \`collapsing=off\` every one of those misses is a database query — the **thundering herd** — and with it on they wait for one query. \`staleWhileRevalidate\` serves the expired state while one refresh runs.`,
  durationS: 60,
  sampleIntervalMs: 500,
  topology: {
    users: 1_300_000,
    servers: 130,
    channels: 50,
    subscriptionsPerUser: 1,
    zipfExponent: 2.5,
    server: { cores: 4, maxConnections: 10_000 },
    app: {
      kind: 'espn',
      feed: {
        updatesPerGamePerMin: 150,
        mix: { score: 0.1, timeout: 0.1, substitution: 0.2, stat: 0.6 },
        duplicateShare: 0.03,
      },
      ingestion: { serviceUs: 300, kafkaMs: { kind: 'lognormal', median: 8, p99: 30 } },
      cache: {
        loadsPerViewerPerMin: 0.05,
        reloadOnScoreShare: 0.005,
        reloadSpreadMs: 2_000,
        cdn: {
          edges: 40,
          assets: 5_000,
          assetZipf: 0.9,
          assetsPerPage: 6,
          ttlS: 86_400,
          originMs: { kind: 'lognormal', median: 60, p99: 200 },
        },
        redis: {
          ttlS: 5,
          collapsing: 'on',
          staleWhileRevalidateS: 0,
          hitMs: { kind: 'lognormal', median: 1, p99: 4 },
        },
        database: { connections: 50, queryMs: { kind: 'lognormal', median: 15, p99: 60 } },
      },
    },
  },
  // The feed publishes; this rate only sets how many messages the trace samples.
  workload: { ratePerChannelPerSec: 2.5 },
  shaping: {
    updates: { schema: 'score-update', classMix: { P0: 0.1, P1: 0.1, P2: 0.8, P3: 0 } },
    conflation: { key: 'gameId' },
    priorities: { mode: 'on' },
  },
  parameters: [
    num(
      'updatesPerMin',
      'topology.app.feed.updatesPerGamePerMin',
      'Workload',
      'Updates per game',
      '/min',
      1,
      6_000,
      1,
      'Feed events per game per minute (the guide: 100–200).',
      true,
    ),
    choice(
      'collapsing',
      'topology.app.cache.redis.collapsing',
      'Servers',
      'Request collapsing',
      ['on', 'off'],
      'on: misses of one key wait for one database query; off: each miss queries (the thundering herd).',
    ),
    num(
      'staleWhileRevalidateS',
      'topology.app.cache.redis.staleWhileRevalidateS',
      'Servers',
      'Stale while revalidate',
      's',
      0,
      600,
      1,
      'Serve an expired state this long past its TTL while one refresh runs (a score still invalidates it).',
    ),
    num(
      'redisTtlS',
      'topology.app.cache.redis.ttlS',
      'Servers',
      'Redis TTL',
      's',
      1,
      300,
      1,
      'How long the game’s state stays cached (the guide: 1–30 s).',
    ),
    num(
      'reloadOnScore',
      'topology.app.cache.reloadOnScoreShare',
      'Workload',
      'Reload after a score',
      'share',
      0,
      0.2,
      0.001,
      'Share of a game’s viewers who reload the page when a score reaches them.',
    ),
    num(
      'zipf',
      'topology.zipfExponent',
      'Topology',
      'Interest skew (Zipf)',
      '',
      0,
      4,
      0.1,
      'How much one game draws the viewers (2.5: ~75% on the popular game).',
    ),
  ],
});
