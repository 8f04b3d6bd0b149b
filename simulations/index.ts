// The scenario registry: every file in simulations/ is listed here once (a test checks it).
import type { ScenarioFile } from '../src/scenario/schema.ts';
import batching from './batching.ts';
import brokerFailure from './broker-failure.ts';
import compression from './compression.ts';
import conflation from './conflation.ts';
import deltaUpdates from './delta-updates.ts';
import directPolling from './direct-polling.ts';
import fanOutCelebrity from './fan-out-celebrity.ts';
import kafka from './kafka.ts';
import loadBalancing from './load-balancing.ts';
import longPolling from './long-polling.ts';
import polling from './polling.ts';
import priorityQueues from './priority-queues.ts';
import productionMultiRegion from './production-multi-region.ts';
import protocols from './protocols.ts';
import reconnectStorm from './reconnect-storm.ts';
import redisPubsub from './redis-pubsub.ts';
import scaleInternet from './scale-internet.ts';
import scaleLarge from './scale-large.ts';
import scaleMedium from './scale-medium.ts';
import scaleSmall from './scale-small.ts';
import selectiveBroadcast from './selective-broadcast.ts';
import sse from './sse.ts';
import subscriptions from './subscriptions.ts';
import throttling from './throttling.ts';
import twoHop from './two-hop.ts';
import twoHop1m from './two-hop-1m.ts';
import webrtc from './webrtc.ts';
import websocket from './websocket.ts';
import espn from './cases/espn.ts';
import liveAuction from './cases/live-auction.ts';
import whatsapp from './cases/whatsapp.ts';

export const scenarioFiles: readonly ScenarioFile[] = [
  twoHop,
  twoHop1m,
  protocols,
  polling,
  longPolling,
  sse,
  websocket,
  webrtc,
  directPolling,
  redisPubsub,
  kafka,
  loadBalancing,
  reconnectStorm,
  brokerFailure,
  productionMultiRegion,
  scaleSmall,
  scaleMedium,
  scaleLarge,
  scaleInternet,
  subscriptions,
  selectiveBroadcast,
  batching,
  throttling,
  conflation,
  compression,
  deltaUpdates,
  priorityQueues,
  fanOutCelebrity,
  liveAuction,
  whatsapp,
  espn,
];
