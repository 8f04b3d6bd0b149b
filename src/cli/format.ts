// Plain-text renderings of a run for the terminal: the summary table, comparisons and their differences, the progress bar.
import type { ClaimResult } from '../sim/claims.ts';
import { decisionMatrix, explain, type Arm, type Difference, type Figure } from '../sim/compare.ts';
import type { RunResult } from '../sim/types.ts';

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function bytesPerSec(b: number): string {
  if (b >= 1e9) return `${dec.format(b / 1e9)} GB/s`;
  if (b >= 1e6) return `${dec.format(b / 1e6)} MB/s`;
  if (b >= 1e3) return `${dec.format(b / 1e3)} kB/s`;
  return `${dec.format(b)} B/s`;
}

/** A human-readable summary of a finished run, one fact per line. */
export function formatSummary(r: RunResult, command: string): string {
  const l = r.latencyMs;
  const row = (label: string, value: string) => `  ${label.padEnd(22)} ${value}`;
  const lat = (s: RunResult['latencyMs']) =>
    `p50 ${dec.format(s.p50)}  p90 ${dec.format(s.p90)}  p99 ${dec.format(s.p99)}  p99.9 ${dec.format(s.p999)}  max ${dec.format(s.max)} ms`;
  const hop1 = r.links.filter((k) => k.hop === 'hop1').reduce((a, k) => a + k.bytesPerSec, 0);
  const hop2 = r.links.filter((k) => k.hop === 'hop2').reduce((a, k) => a + k.bytesPerSec, 0);
  const cpu = r.servers.map((s) => s.cpuUtilisation);
  const conns = r.servers.map((s) => s.connections);
  const lines = [
    `${r.scenario}  seed ${r.seed}  ${dec.format(r.simulatedSeconds)} s simulated`,
    '',
    row('end-to-end latency', lat(l)),
    row('hop 2 (to server)', lat(r.hop2LatencyMs)),
    row('hop 1 (to user)', lat(r.hop1LatencyMs)),
    '',
    row('produced', int.format(r.produced)),
    row('owed deliveries', int.format(r.fanout)),
    row('delivered', `${int.format(r.delivered)}  (${int.format(r.deliveriesPerSec)}/s)`),
    row('dropped', int.format(r.dropped)),
    row('duplicated', int.format(r.duplicated)),
    row('out of order', int.format(r.outOfOrder)),
    row('in flight at end', int.format(r.inFlight)),
    row('rejected connections', int.format(r.rejectedConnections)),
    '',
    row('hop 2 bytes', bytesPerSec(hop2)),
    row('hop 1 bytes', bytesPerSec(hop1)),
    row(
      'servers',
      `${r.servers.length}, ${int.format(Math.min(...conns))}–${int.format(Math.max(...conns))} connections each`,
    ),
    row(
      'server CPU',
      `mean ${dec.format((100 * cpu.reduce((a, b) => a + b, 0)) / cpu.length)}%, max ${dec.format(100 * Math.max(...cpu))}%`,
    ),
    row(
      'server queue max',
      `${int.format(Math.max(...r.servers.map((s) => s.queueLengthMax)))} sends`,
    ),
    ...protocolLines(r, row),
    ...clusterLines(r, row),
    ...fanoutLines(r, row),
    ...shapingLines(r, row),
    '',
    row(
      'events',
      `${int.format(r.events)} in ${int.format(r.wallMs)} ms (${int.format(r.eventsPerSec)}/s)`,
    ),
    row('traceHash', r.traceHash),
    row('rerun', command),
  ];
  return lines.join('\n');
}

type Row = (label: string, value: string) => string;
const pct = (x: number) => `${dec.format(100 * x)}%`;

function protocolLines(r: RunResult, row: Row): string[] {
  const p = r.protocolStats;
  if (!p) return [];
  return [
    '',
    row('protocol', `${p.protocol} (${p.bidirectional ? 'bidirectional' : 'one-way'})`),
    row(
      'requests per update',
      `${dec.format(p.requestsPerDelivered)}  (${pct(p.wastedRequestShare)} empty)`,
    ),
    row('bytes per update', `${int.format(p.wireBytesPerDelivered)} B on the wire`),
    row(
      'server connections',
      `${int.format(p.serverConnectionsPeak)} peak, ${dec.format(p.serverMemoryMB)} MB`,
    ),
    row('battery', `${dec.format(p.batteryMahPerHour)} mAh/h per client`),
    row('setup', `p50 ${dec.format(p.setupLatencyMs.p50)} ms`),
    row('recovered / blocked', `${int.format(p.recovered)} / ${int.format(p.blockedStreams)}`),
  ];
}

function shapingLines(r: RunResult, row: Row): string[] {
  const s = r.shaping;
  if (!s) return [];
  const ms = (x: number | null) => (x === null ? 'starved' : `${dec.format(x)} ms`);
  const saved = Object.entries(s.savedByStage)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k} ${int.format(v)}`)
    .join(', ');
  const lines = [
    '',
    row(
      'shaping',
      `${s.stages.join(', ') || 'no stage on'}; ${s.schema} in ${s.encoding}${s.deflate ? ' + deflate' : ''}`,
    ),
    row(
      'per user',
      `${dec.format(s.messagesPerSecPerUser)} frames/s, ${dec.format(s.updatesPerSecPerUser)} updates/s, ${bytesPerSec(s.bytesPerSecPerUser)}; ${dec.format(s.bytesPerUpdate)} B per update`,
    ),
  ];
  if (s.staleness)
    lines.push(
      row(
        'staleness',
        `p50 ${ms(s.staleness.p50Ms)}  p99 ${ms(s.staleness.p99Ms)}  max ${ms(s.staleness.maxMs)} (${int.format(s.staleness.samples)} samples)`,
      ),
    );
  lines.push(row('saved', saved || 'nothing'));
  lines.push(
    row(
      'full / delta / resyncs',
      `${int.format(s.snapshots)} / ${int.format(s.deltas)} / ${int.format(s.resyncs)}`,
    ),
  );
  if (s.batch)
    lines.push(
      row(
        'batches',
        `${dec.format(s.batch.meanUpdatesPerFrame)} updates per frame, longest wait ${dec.format(s.batch.maxHoldMs)} ms`,
      ),
    );
  if (s.throttleBacklog > 0) lines.push(row('throttle backlog', int.format(s.throttleBacklog)));
  if (s.perClass)
    for (const [k, c] of Object.entries(s.perClass))
      lines.push(
        row(
          `class ${k}`,
          `p50 ${ms(c.p50Ms)}  p99 ${ms(c.p99Ms)}  max ${ms(c.maxMs)}, ${int.format(c.delivered)} delivered, ${int.format(c.dropped)} dropped, ${int.format(c.undelivered)} not delivered by the end`,
        ),
      );
  if (s.perUserClass.length > 1)
    for (const c of s.perUserClass)
      lines.push(
        row(
          `users: ${c.name}`,
          `${dec.format(c.messagesPerSecPerUser)} frames/s, ${bytesPerSec(c.bytesPerSecPerUser)}, p99 ${dec.format(c.latencyMs.p99)} ms${c.staleness ? `, staleness p99 ${ms(c.staleness.p99Ms)}` : ''}`,
        ),
      );
  if (s.subscriptions)
    lines.push(
      row(
        'subscriptions',
        `${int.format(s.subscriptions.active)} live (${s.subscriptions.mode}), ${int.format(s.subscriptions.changes)} changes, ${int.format(s.subscriptions.brokerSubscriptions)} at the broker`,
      ),
    );
  if (s.audience && s.audience.mode !== 'subscribers')
    lines.push(
      row(
        'audience',
        `${s.audience.mode}: ${pct(s.audience.shareReceiving)} of users per update, ${int.format(s.audience.filterEvaluations)} filter checks`,
      ),
    );
  return lines;
}

/** `hoplab claims`: the guide's figures, checked, one line each. */
export function formatClaims(scenario: string, results: ClaimResult[], command: string): string {
  const figure = (v: number | null, unit: string) => {
    if (v === null) return 'n/a';
    if (unit === 'share') return `${v > 0 ? '+' : ''}${dec.format(100 * v)}%`;
    if (unit === 'x') return `${dec.format(v)}x`;
    return `${dec.format(v)} ${unit}`;
  };
  const band = (c: ClaimResult) =>
    c.guide.min === c.guide.max
      ? figure(c.guide.min, c.unit)
      : `${figure(c.guide.min, c.unit)}–${figure(c.guide.max, c.unit)}`;
  const lines = [`${scenario}: the guide's figures, checked`, ''];
  for (const c of results) {
    const verdict =
      c.verdict === 'holds'
        ? 'holds'
        : c.verdict === 'does-not-hold'
          ? 'does NOT hold'
          : 'not measured';
    lines.push(`  ${c.claim}  (${c.source})`);
    lines.push(`    guide ${band(c)}, measured ${figure(c.measured, c.unit)}: ${verdict}`);
    lines.push(`    ${c.why}`);
    lines.push(`    runs: ${c.runs.map((r) => r.traceHash).join(', ')}`);
    lines.push('');
  }
  lines.push(`  rerun  ${command}`);
  return lines.join('\n');
}

function fanoutLines(r: RunResult, row: Row): string[] {
  const f = r.fanoutStats;
  if (!f) return [];
  const size = (b: number) =>
    b >= 1e6
      ? `${dec.format(b / 1e6)} MB`
      : b >= 1e3
        ? `${dec.format(b / 1e3)} kB`
        : `${int.format(b)} B`;
  const b = f.bloom;
  return [
    '',
    row(
      'fan-out',
      `${f.strategy}; celebrity (${int.format(f.followers)} followers) in the ${f.celebrityTier} tier`,
    ),
    row(
      'writes',
      `${int.format(f.writes)} (${dec.format(f.writeAmplification)} per post, ${int.format(f.celebrityWriteAmplification)} per celebrity post); ${pct(f.writeLoadReduction)} less than fan-out on write`,
    ),
    row(
      'celebrity fan-out',
      f.celebrityFanoutS === null
        ? `unfinished, ${pct(f.celebrityFanoutDone)} written`
        : `${dec.format(f.celebrityFanoutS)} s`,
    ),
    row(
      'pushes',
      `${int.format(f.pushes)} (${int.format(f.falsePositivePushes)} false positives), ${int.format(f.notifications)} live to online followers`,
    ),
    row(
      'feed opens',
      `${int.format(f.reads.opens)}, p50 ${dec.format(f.reads.latencyMs.p50)}  p99 ${dec.format(f.reads.latencyMs.p99)}  max ${dec.format(f.reads.latencyMs.max)} ms, ${dec.format(f.reads.opsPerOpen)} ops each`,
    ),
    row(
      'storage',
      `feeds ${size(f.storage.feedBytes)}, timelines ${size(f.storage.timelineBytes)}, cache ${size(f.storage.cacheBytes)}`,
    ),
    row(
      'stale opens',
      `${pct(f.staleness.staleShare)} of those who saw a post, waited p50 ${dec.format(f.staleness.waitMs.p50 / 1000)} s`,
    ),
    ...(b
      ? [
          row(
            'bloom filter',
            `${size(b.fullScaleBytes)} for ${int.format(b.fullScaleElements)} users, ${b.hashes} hashes; measured FP ${pct(b.measuredFpRate)} (configured ${pct(b.configuredFpRate)}, sampled: ${int.format(b.sampleElements)} keys, ${int.format(b.sampleQueries)} queries)`,
          ),
        ]
      : []),
  ];
}

function clusterLines(r: RunResult, row: Row): string[] {
  const c = r.clusterStats;
  if (!c) return [];
  const rc = c.reconnect;
  return [
    '',
    row('distribution', `${c.broker}, ${c.strategy}, ${c.guarantee}`),
    row('reach', pct(c.reach)),
    row('lost / at broker', `${int.format(c.lost)} / ${int.format(c.lostAtBroker)} messages`),
    row('recovered / resynced', `${int.format(c.recovered)} / ${int.format(c.resynced)}`),
    row('stale', int.format(c.stale)),
    row('dupes suppressed', int.format(c.duplicatesSuppressed)),
    ...(c.partitionOwners.length > 0
      ? [
          row(
            'consumer group',
            `${int.format(c.rebalances)} rebalances, ${int.format(c.recoveryPaths.groupReplay ?? 0)} partitions replayed; owners ${c.partitionOwners.map((o) => (o < 0 ? '–' : String(o))).join(' ')}`,
          ),
        ]
      : []),
    ...(c.logCopies + c.dedupedAtBroker > 0
      ? [
          row(
            'producer retries',
            `${int.format(c.logCopies)} second copies in the log, ${int.format(c.dedupedAtBroker)} dropped by the idempotent producer`,
          ),
        ]
      : []),
    ...(c.away > 0 ? [row('away at the end', `${int.format(c.away)} users`)] : []),
    row('connections', c.connectionsPerServer.map((n) => int.format(n)).join(' · ')),
    row(
      'reconnects',
      `${int.format(rc.firstAttempts)} first attempts, peak 100 ms holds ${pct(rc.firstAttemptPeakShare)} (${dec.format(rc.peakToUniformRatio)}× uniform), all back at ${rc.allReconnectedAtS === null ? '–' : `${dec.format(rc.allReconnectedAtS)} s`}`,
    ),
    ...c.faults.map((f) =>
      row(
        `fault @ ${dec.format(f.atS)} s`,
        `${f.kind}${f.between ? ` (${f.between})` : f.kind.startsWith('server') || f.kind === 'partition' || f.kind === 'graceful-shutdown' || f.kind === 'slow-link' ? ` (server ${f.target})` : ''}: ${f.applied ? `hit ${int.format(f.hit)}` : 'no effect'}`,
      ),
    ),
  ];
}

/** One progress line, redrawn in place on a terminal. */
export function progressLine(fraction: number, simS: number, totalS: number, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `\r${bar} ${dec.format(100 * fraction).padStart(5)}%  ${dec.format(simS)} / ${dec.format(totalS)} s simulated`;
}

/** The measured decision matrix as a text table: one column per arm, one row per figure. */
export function formatComparison(labels: string[], results: RunResult[], command: string): string {
  const rows = decisionMatrix(results).filter((r) => r.values.some((v) => v !== null));
  const cell = (v: number | boolean | null, unit: string) => {
    if (v === null) return '–';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (unit === 'share') return `${dec.format(100 * v)}%`;
    return dec.format(v) + (unit && unit !== 'share' ? ` ${unit}` : '');
  };
  const width = Math.max(18, ...labels.map((l) => l.length + 2));
  const header = ''.padEnd(32) + labels.map((l) => l.padStart(width)).join('');
  const lines = rows.map(
    (r) => r.label.padEnd(32) + r.values.map((v) => cell(v, r.unit).padStart(width)).join(''),
  );
  const hashes = 'traceHash'.padEnd(32) + results.map((r) => r.traceHash.padStart(width)).join('');
  return [
    `seed ${results[0]?.seed}  ${dec.format(results[0]?.simulatedSeconds ?? 0)} s simulated`,
    '',
    header,
    ...lines,
    '',
    hashes,
    `rerun: ${command}`,
  ].join('\n');
}

/** A figure with its unit, for the differences table and its reasons. */
function figure(v: number, unit: string): string {
  switch (unit) {
    case 'share':
      return pct(v);
    case 'B/s':
      return bytesPerSec(v);
    case '/s':
      return `${dec.format(v)}/s`;
    case '':
      return dec.format(v);
    default:
      return `${dec.format(v)} ${unit}`;
  }
}

function shown(v: Figure, unit: string): string {
  if (v === null) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return figure(v, unit);
}

/** The verdict column: the winner(s), `tie`, or a dash for rows no side can win. */
function verdictCell(d: Difference, labels: readonly string[]): string {
  if (d.verdict.outcome === 'win') return d.verdict.winners.map((i) => labels[i]).join(' & ');
  return d.verdict.outcome === 'tie' ? 'tie' : '–';
}

function noiseLine(seeds: readonly number[]): string {
  if (seeds.length === 0)
    return 'no noise estimate (--noise-seeds 0): only exactly equal values tie';
  return `noise seeds ${seeds.join(', ')}: every arm also ran on them; a difference wins only when the arms' spreads (min–max over ${seeds.length + 1} seeds) do not overlap`;
}

function overridesText(overrides: Record<string, number | string>): string {
  const pairs = Object.entries(overrides).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '(as is)';
}

/**
 * A comparison as text: every arm's figures side by side with the better side (or `tie`) per row,
 * each arm's overrides and traceHash, why each row came out as it did, and the rerun line.
 */
export function formatDifferences(
  arms: readonly { label: string; overrides: Record<string, number | string> }[],
  results: readonly RunResult[],
  diffs: readonly Difference[],
  seeds: readonly number[],
  command: string,
): string {
  const labels = arms.map((a) => a.label);
  const cells = diffs.map((d) => d.values.map((v) => shown(v, d.unit)));
  const extras = [arms.map((a) => overridesText(a.overrides)), results.map((r) => r.traceHash)];
  const width = Math.max(12, ...[labels, ...cells, ...extras].flat().map((c) => c.length + 2));
  const line = (label: string, values: readonly string[], tail = '') =>
    label.padEnd(30) + values.map((v) => v.padStart(width)).join('') + (tail ? `   ${tail}` : '');
  const first = results[0];
  return [
    `${first?.scenario}  seed ${first?.seed}  ${dec.format(first?.simulatedSeconds ?? 0)} s simulated  ${labels.length} arms`,
    noiseLine(seeds),
    '',
    line('', labels, 'better'),
    ...diffs.map((d, i) => line(d.label, cells[i], verdictCell(d, labels))),
    '',
    line('overrides', extras[0]),
    line('traceHash', extras[1]),
    '',
    'why',
    ...diffs.map((d) => `  ${d.label.padEnd(30)} ${explain(d, labels, figure)}`),
    '',
    `rerun: ${command}`,
  ].join('\n');
}

/** `compare --json`: the seeds, one run JSON per arm (with its name and overrides), the differences. */
export function comparisonJson(
  seed: number,
  seeds: readonly number[],
  arms: readonly Arm[],
  results: readonly RunResult[],
  diffs: readonly Difference[],
): object {
  const labels = arms.map((a) => a.label);
  return {
    seed,
    noiseSeeds: seeds,
    results: results.map((r, i) => ({ arm: labels[i], overrides: arms[i].overrides, ...r })),
    differences: diffs.map((d) => ({
      key: d.key,
      label: d.label,
      unit: d.unit,
      better: d.better,
      values: d.values,
      spreads: d.spreads,
      outcome: d.verdict.outcome,
      winners: d.verdict.winners.map((i) => labels[i]),
      why: explain(d, labels, figure),
    })),
  };
}
