// Partitions: which groups of nodes cannot reach which (both ways or one way), and the broker links Redis dropped.
import type { Fault } from '../../../scenario/schema.ts';

/** A group of nodes a partition cuts apart (see GROUP_PATTERN in the schema). */
interface Group {
  kind: 'source' | 'broker' | 'servers' | 'server' | 'users' | 'users-of' | 'region';
  n: number;
}

/** An active partition: what cannot reach what, until its fault recovers. */
interface Cut {
  from: Group;
  to: Group;
  oneWay: boolean;
  fault: number;
}

const NODE_TYPE_SOURCE = 0;
const NODE_TYPE_BROKER = 1;
const NODE_TYPE_SERVER = 2;
const NODE_TYPE_USER = 3;

function parseGroup(text: string): Group {
  const [name, num] = text.split(':');
  const n = num === undefined ? 0 : Number(num);
  if (name === 'users' && num !== undefined) return { kind: 'users-of', n };
  return { kind: name as Group['kind'], n };
}

/** A partition's identity: a heal closes the open partition with the same groups. */
export function partitionKey(f: Fault): string {
  return `${f.from ?? 'broker'}>${f.to ?? `server:${f.target}`}/${f.oneWay ? 1 : 0}`;
}

export class Partitions {
  /** Partitions in force. */
  private cuts: Cut[] = [];
  /** Per server: Redis dropped it as a slow subscriber until this time (it then resubscribes). */
  private readonly brokerLinkDownUntilUs: Float64Array;

  constructor(
    private readonly regions: number,
    servers: number,
  ) {
    this.brokerLinkDownUntilUs = new Float64Array(servers);
  }

  /** How many partitions are in force. */
  get active(): number {
    return this.cuts.length;
  }

  /**
   * A partition fault starts (fault `fault` of the schedule). Without groups: broker and server
   * `target` cannot reach each other.
   */
  add(f: Fault, fault: number): void {
    this.cuts.push({
      from: parseGroup(f.from ?? 'broker'),
      to: parseGroup(f.to ?? `server:${f.target}`),
      oneWay: f.oneWay,
      fault,
    });
  }

  /** Partition fault `fault` heals. */
  remove(fault: number): void {
    this.cuts = this.cuts.filter((c) => c.fault !== fault);
  }

  /** Whether a partition between the same groups as `key` (see partitionKey) is in force. */
  holds(key: string, schedule: readonly Fault[]): boolean {
    return this.cuts.some((c) => partitionKey(schedule[c.fault]) === key);
  }

  /** Redis drops server s as a slow subscriber until `untilUs`. */
  dropSubscriber(s: number, untilUs: number): void {
    this.brokerLinkDownUntilUs[s] = untilUs;
  }

  private matches(g: Group, type: number, i: number): boolean {
    const R = this.regions;
    switch (g.kind) {
      case 'source':
        return type === NODE_TYPE_SOURCE;
      case 'broker':
        return type === NODE_TYPE_BROKER;
      case 'servers':
        return type === NODE_TYPE_SERVER;
      case 'server':
        return type === NODE_TYPE_SERVER && i === g.n;
      case 'users':
        return type === NODE_TYPE_USER;
      case 'users-of':
        return type === NODE_TYPE_USER && i % R === g.n;
      case 'region':
        // The source and the broker live in region 0.
        if (type === NODE_TYPE_SOURCE || type === NODE_TYPE_BROKER) return g.n === 0;
        return i % R === g.n;
    }
  }

  /** Whether what node (ta, ia) sends to node (tb, ib) is cut off by a partition in force. */
  private cut(ta: number, ia: number, tb: number, ib: number): boolean {
    for (const c of this.cuts) {
      if (this.matches(c.from, ta, ia) && this.matches(c.to, tb, ib)) return true;
      if (!c.oneWay && this.matches(c.from, tb, ib) && this.matches(c.to, ta, ia)) return true;
    }
    return false;
  }

  /** A request and its response need both directions (a fetch, a poll, a handshake). */
  private cutEither(ta: number, ia: number, tb: number, ib: number): boolean {
    return this.cuts.length > 0 && (this.cut(ta, ia, tb, ib) || this.cut(tb, ib, ta, ia));
  }

  /** Source → broker: a publish or a producer's write. */
  sourceToBroker(): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0);
  }

  /** Broker → source: the acknowledgement of a producer's write. */
  brokerToSource(): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_BROKER, 0, NODE_TYPE_SOURCE, 0);
  }

  /** Source ↔ broker, either way. */
  sourceBroker(): boolean {
    return this.cutEither(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0);
  }

  /** Broker → server s: Redis dropped the slow subscriber, or a partition cuts the stream. */
  brokerToServer(s: number, now: number): boolean {
    return (
      this.brokerLinkDownUntilUs[s] > now ||
      (this.cuts.length > 0 && this.cut(NODE_TYPE_BROKER, 0, NODE_TYPE_SERVER, s))
    );
  }

  /** Broker ↔ server s for a request/response exchange (Kafka fetch, a poll, a heartbeat). */
  brokerServer(s: number, now: number): boolean {
    return (
      this.brokerLinkDownUntilUs[s] > now ||
      this.cutEither(NODE_TYPE_BROKER, 0, NODE_TYPE_SERVER, s)
    );
  }

  /** Server s → user u: a frame. */
  serverToUser(s: number, u: number): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_SERVER, s, NODE_TYPE_USER, u);
  }

  /** User u → server s: an ack. */
  userToServer(u: number, s: number): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_USER, u, NODE_TYPE_SERVER, s);
  }

  /** Server s ↔ user u, either way (a handshake, a heartbeat). */
  serverUser(s: number, u: number): boolean {
    return this.cutEither(NODE_TYPE_SERVER, s, NODE_TYPE_USER, u);
  }

  /** User u ↔ server s, either way, asked from the user's side (a connection attempt). */
  userServer(u: number, s: number): boolean {
    return this.cutEither(NODE_TYPE_USER, u, NODE_TYPE_SERVER, s);
  }
}
