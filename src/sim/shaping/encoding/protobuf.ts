// Protocol Buffers through protobufjs, from the text of updates.proto: each schema's message, the update envelope and the batch frame.
import { parse, type Root, type Type } from 'protobufjs';
import { ScenarioError } from '../../../scenario/errors.ts';
import type { UpdateData } from './payloads.ts';
import { UPDATES_PROTO } from './proto-source.ts';
import type { UpdateSchema } from './schemas.ts';

/** The package of updates.proto. */
export const PROTO_PACKAGE = 'hoplab.updates';

export interface ProtoTypes {
  readonly frame: Type;
  readonly update: Type;
  readonly batch: Type;
  /** The schema's own message (StockPrice, …). */
  readonly data: Type;
  /** Its member of Update's `data` oneof, camelCased (`stockPrice`). */
  readonly dataField: string;
}

let root: Root | null = null;
const TYPES = new WeakMap<UpdateSchema, ProtoTypes>();

/** updates.proto, parsed once (field names camelCased, as protobufjs does by default). */
export function protoRoot(): Root {
  if (root === null) root = parse(UPDATES_PROTO).root;
  return root;
}

export function protoTypes(schema: UpdateSchema): ProtoTypes {
  const cached = TYPES.get(schema);
  if (cached !== undefined) return cached;
  const r = protoRoot();
  const type = (name: string): Type => r.lookupType(`${PROTO_PACKAGE}.${name}`);
  const update = type('Update');
  let data: Type;
  try {
    data = type(schema.protoMessage);
  } catch {
    throw new ScenarioError(
      'schema',
      `${schema.id}: no message ${schema.protoMessage} in updates.proto`,
    );
  }
  const member = update.oneofs.data.fieldsArray.find((f) => f.resolve().resolvedType === data);
  if (member === undefined)
    throw new ScenarioError(
      'schema',
      `${schema.id}: Update.data has no member of type ${schema.protoMessage}`,
    );
  const t: ProtoTypes = {
    frame: type('Frame'),
    update,
    batch: type('Batch'),
    data,
    dataField: member.name,
  };
  TYPES.set(schema, t);
  return t;
}

/** protobufjs returns 64-bit integers as Long objects when the `long` package is around, else as numbers. */
export function longToNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'object' && x !== null && 'toNumber' in x)
    return (x as { toNumber(): number }).toNumber();
  throw new ScenarioError('frame', `expected an integer, got ${String(x)}`);
}

/** A decoded schema message as plain data: present fields only, 64-bit integers as numbers. */
export function dataFromMessage(t: ProtoTypes, message: unknown): UpdateData {
  return t.data.toObject(message as never, { longs: Number }) as UpdateData;
}
