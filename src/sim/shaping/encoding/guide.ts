// The guide's payload-size claims and its stock-price object, as plain data for the lab's "guide says / measured / holds?" table.
import type { PayloadEncoding } from './codecs.ts';

/** The guide's example update, exactly: `{ "symbol": "AAPL", "price": 178.50, "change": 2.30, "volume": 45623190 }`. */
export const GUIDE_STOCK_PRICE = {
  symbol: 'AAPL',
  price: 178.5,
  change: 2.3,
  volume: 45623190,
} as const;

export interface GuidePayloadClaim {
  readonly schemaId: 'stock-price';
  /** The encoding the claim is about; the guide's "JSON" is the readable (pretty) form, its "minified" one uses short keys. */
  readonly encoding: PayloadEncoding;
  readonly label: string;
  readonly bytes: number;
  /** Savings against the guide's JSON, in percent. */
  readonly savingsPct: number;
}

/** What the guide says one stock-price update weighs in each encoding. */
export const GUIDE_PAYLOAD_CLAIMS: readonly GuidePayloadClaim[] = [
  { schemaId: 'stock-price', encoding: 'json-pretty', label: 'JSON', bytes: 200, savingsPct: 0 },
  {
    schemaId: 'stock-price',
    encoding: 'json-short',
    label: 'JSON (minified)',
    bytes: 120,
    savingsPct: 40,
  },
  { schemaId: 'stock-price', encoding: 'msgpack', label: 'MessagePack', bytes: 80, savingsPct: 60 },
  {
    schemaId: 'stock-price',
    encoding: 'protobuf',
    label: 'Protocol Buffers',
    bytes: 50,
    savingsPct: 75,
  },
];

/** A savings claim holds when the measured savings are at least the claimed ones less this many points. */
export const GUIDE_SAVINGS_TOLERANCE_PCT = 5;
