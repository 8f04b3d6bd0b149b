// The case-study applications the broadcast fabric can host, by `topology.app.kind`.
import type { CaseApp } from './app.ts';
import { EspnApp } from './espn/app.ts';
import { LiveAuctionApp } from './live-auction/app.ts';
import type { AppSpec } from './schemas.ts';

export function createApp(spec: AppSpec): CaseApp {
  switch (spec.kind) {
    case 'live-auction':
      return new LiveAuctionApp(spec);
    case 'espn':
      return new EspnApp(spec);
  }
}
