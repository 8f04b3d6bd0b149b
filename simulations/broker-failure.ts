// The broker goes down for 10 s and comes back: Redis loses, Kafka replays, direct polling catches up.
import type { ScenarioFile } from '../src/scenario/schema.ts';
import { clusterParameters, clusterTopology, clusterWorkload } from './shared/cluster-base.ts';

export default {
  id: 'broker-failure',
  title: 'Broker failure',
  summary:
    'The message broker is down from 20 s to 30 s: what each distribution pattern loses or replays.',
  prose: `The same outage under three patterns. **Redis pub/sub** refuses every PUBLISH while it is down and keeps nothing: those updates are lost for every user (*lostAtBroker*), and with history kept in Redis the restart also ends the history's epoch. **Kafka** producers buffer and retry; when the broker returns the backlog is appended and consumed — nothing is lost, latency spikes to the outage length. **Direct polling** fails its polls and finds everything on the first poll after the source is back.

Switch \`broker\` and compare *lost*, *reach* and the latency spike.`,
  model: 'cluster',
  durationS: 60,
  sampleIntervalMs: 500,
  topology: {
    ...clusterTopology,
    faults: [{ kind: 'broker-down', atS: 20, target: 0, forS: 10, loseState: true, share: 1 }],
  },
  workload: clusterWorkload,
  parameters: clusterParameters,
} satisfies ScenarioFile;
