// Subscription management (Pattern 1): watchlists that change during the run, pattern subscriptions and the servers' indexes.
import { choice, num } from './shared/params.ts';
import { shapedTwoHop } from './shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'subscriptions',
  title: 'Subscription management',
  summary:
    'Users keep watchlists of 20 of 2,000 stocks and change them as they go; servers keep both indexes and subscribe at Redis only to what their users watch.',
  prose: `Each user watches **20 of 2,000 stocks**, picked from a personal list of 30, and swaps one every two minutes on average (\`churnPerMin\`). Every server keeps the guide's two indexes — user → stocks and stock → local users — and pays CPU for each subscribe and unsubscribe (\`subscribeCostUs\`). It holds a Redis subscription for a stock only while one of its users watches it, so Redis writes a price only to the servers that have someone to give it to: the "broker subscriptions" figure moves as watchlists change.

A stock update goes only to its subscribers (the reverse index is one lookup), so each user receives about 20 updates a second instead of 2,000: that is the guide's Robinhood "99% reduction in bandwidth" from selective subscription — measured against \`audience=all\`, the same updates broadcast to everyone.

Switch \`subscriptionMode=pattern\` and users subscribe to **sectors** instead (\`stocks.tech.*\`: ten consecutive stocks), as Redis \`PSUBSCRIBE\` does: fewer subscriptions to manage, but every publish is matched against every pattern at Redis, and users receive stocks they did not pick one by one.`,
  durationS: 20,
  sampleIntervalMs: 250,
  topology: { users: 1_000, servers: 4, channels: 2_000, subscriptionsPerUser: 20 },
  workload: { ratePerChannelPerSec: 1, arrival: 'poisson' },
  shaping: {
    subscriptions: {
      candidatesPerUser: 30,
      churnPerUserPerMin: 0.5,
      mode: 'exact',
      sectorSize: 10,
    },
  },
  parameters: [
    num(
      'churnPerMin',
      'topology.shaping.subscriptions.churnPerUserPerMin',
      'Shaping',
      'Watchlist changes',
      'per user per min',
      0,
      60,
      0.1,
      'How often a user swaps a watched stock for another from their list.',
    ),
    num(
      'candidates',
      'topology.shaping.subscriptions.candidatesPerUser',
      'Shaping',
      'Watchlist universe',
      'stocks',
      1,
      255,
      1,
      'Stocks each user picks from; the live subscriptions are a part of them.',
    ),
    choice(
      'subscriptionMode',
      'topology.shaping.subscriptions.mode',
      'Shaping',
      'Subscribe by',
      ['exact', 'pattern'],
      'exact: each stock by name; pattern: a sector of ten stocks at once (stocks.<sector>.*).',
    ),
    num(
      'subscribeCostUs',
      'topology.shaping.subscriptions.subscribeCostUs',
      'Shaping',
      'Index update cost',
      'µs',
      0,
      1_000,
      0.5,
      'Server CPU for one subscribe or unsubscribe in its indexes.',
    ),
    choice(
      'audience',
      'topology.shaping.audience.mode',
      'Shaping',
      'Audience',
      ['subscribers', 'all', 'region', 'permission'],
      'Who gets an update: its subscribers, every connected user, the users of its region, or subscribers allowed to see it.',
    ),
  ],
  claims: [
    {
      id: 'selective-subscription',
      claim: 'Users subscribe to watchlist (10-50 stocks) → Result: 99% reduction in bandwidth',
      source: 'Real-World Examples › Robinhood › 1. Selective Subscription',
      metric: 'shaping.bytesPerSecPerUser',
      measure: 'change',
      base: { audience: 'all' },
      with: {},
      guide: { min: -0.99, max: -0.99 },
      tolerance: 0.005,
      unit: 'share',
      why: 'A user who watches 20 of 2,000 stocks receives 1% of the updates a broadcast to everyone would send.',
    },
  ],
});
