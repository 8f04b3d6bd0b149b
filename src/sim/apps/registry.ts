// The case-study applications the fabrics can host, by `topology.app.kind`.
import type { CaseApp, ClusterCaseApp } from './app.ts';
import { EspnApp } from './espn/app.ts';
import { LiveAuctionApp } from './live-auction/app.ts';
import type { AppSpec, ClusterAppSpec } from './schemas.ts';
import { WhatsAppApp } from './whatsapp/app.ts';

export function createApp(spec: AppSpec): CaseApp {
  switch (spec.kind) {
    case 'live-auction':
      return new LiveAuctionApp(spec);
    case 'espn':
      return new EspnApp(spec);
  }
}

/** The apps of the cluster fabric (`topology.app` of a cluster scenario). */
export function createClusterApp(spec: ClusterAppSpec): ClusterCaseApp {
  switch (spec.kind) {
    case 'whatsapp':
      return new WhatsAppApp(spec);
  }
}
