// A server's link to its users in the topology: how it is drawn (slowed, cut) and what its menu offers.
import {
  partitionGroups,
  partitionHeal,
  slowLinkFault,
  slowLinkWhat,
  SLOW_LINK_S,
  userPartitionFault,
  formatSeconds,
  type ClusterCondition,
  type FaultInput,
  type UserCut,
} from './faults.ts';

/** The link's look: slowed (amber, dashed) or cut (red, dashed), with a short label. */
export interface UserLinkMark {
  tone: 'slow' | 'cut';
  label: string;
}

const CUT_LABEL: Record<Exclude<UserCut, 'none'>, string> = {
  'to-users': 'cut →',
  'to-server': 'cut ←',
  both: 'cut ⇄',
};

/** Per server: its user link's mark, or null when it carries traffic normally. */
export function userLinkMarks(condition: ClusterCondition | null): (UserLinkMark | null)[] {
  if (!condition) return [];
  return condition.servers.map((_, s) => {
    const cut = condition.usersCut?.[s] ?? 'none';
    const slowed = condition.slowLink?.[s] ?? false;
    const slowBy = condition.slowBy?.[s] ?? null;
    // Short enough for a narrow link: "cap" goes (the unit says it); a cut outranks a slow link.
    if (cut !== 'none') return { tone: 'cut', label: CUT_LABEL[cut] };
    if (!slowed) return null;
    return { tone: 'slow', label: slowBy ? slowLinkWhat(slowBy).replace(/^cap /, '') : 'slowed' };
  });
}

export interface LinkMenuItem {
  key: string;
  label: string;
  /** A short muted note after the label ("20 s"). */
  detail?: string;
  fault: FaultInput | null;
  group: 'slow' | 'cut';
}

export interface LinkMenu {
  /** "WS 2 ↔ its users". */
  title: string;
  /** What is in force now, in words ("slowed: +200 ms, until 45 s"; "cut: WS 2 → users"). */
  status: string[];
  /** The note under the slow group: slow links are timed (there is no heal). */
  slowNote: string;
  items: LinkMenuItem[];
}

/**
 * The menu of server `s`'s user link: three timed slow-links (each ends on its own after
 * SLOW_LINK_S: the model has no heal for them), three partitions between the server and the users
 * (until healed), and a heal per open one. Items that would change nothing have no fault.
 */
export function userLinkMenu(
  s: number,
  condition: ClusterCondition | null,
  serverName: (s: number) => string,
): LinkMenu {
  const name = serverName(s);
  const slowBy = condition?.slowBy?.[s] ?? null;
  const slowed = condition?.slowLink?.[s] ?? false;
  const cut = condition?.usersCut?.[s] ?? 'none';
  const open = condition?.userCuts?.[s] ?? [];
  const status: string[] = [];
  if (slowed)
    status.push(
      slowBy
        ? `slowed: ${slowLinkWhat(slowBy)}${slowBy.forS > 0 ? `, until ${formatSeconds(slowBy.atS + slowBy.forS)}` : ''}`
        : 'slowed',
    );
  for (const e of open) status.push(`cut: ${partitionGroups(e, serverName)}`);
  const slow = (key: string, label: string, change: Parameters<typeof slowLinkFault>[1]) => ({
    key,
    label,
    detail: `${SLOW_LINK_S} s`,
    fault: slowed ? null : slowLinkFault(s, change),
    group: 'slow' as const,
  });
  const has = (c: Exclude<UserCut, 'none'>) => cut === c || cut === 'both';
  const items: LinkMenuItem[] = [
    slow('slow', 'Slow down: +200 ms', { extraLatencyMs: 200 }),
    slow('lossy', 'Lossy: 5% loss', { lossProbability: 0.05 }),
    slow('cap', 'Cap bandwidth: 1 Mbit/s', { bandwidthMbps: 1 }),
    {
      key: 'cut-up',
      label: 'Cut users → server (one way)',
      fault: has('to-server') ? null : userPartitionFault(s, 'to-server'),
      group: 'cut',
    },
    {
      key: 'cut-down',
      label: 'Cut server → users (one way)',
      fault: has('to-users') ? null : userPartitionFault(s, 'to-users'),
      group: 'cut',
    },
    {
      key: 'cut-both',
      label: 'Cut both ways',
      fault: cut === 'both' ? null : userPartitionFault(s, 'both'),
      group: 'cut',
    },
    ...open.map((e, k) => ({
      key: open.length === 1 ? 'heal' : `heal-${k}`,
      label: open.length === 1 ? 'Heal' : `Heal ${partitionGroups(e, serverName)}`,
      fault: partitionHeal(e),
      group: 'cut' as const,
    })),
  ];
  return {
    title: `${name} ↔ its users`,
    status,
    slowNote: slowed
      ? 'A slow link ends on its own (there is no heal).'
      : `Each lasts ${SLOW_LINK_S} s and ends on its own (there is no heal).`,
    items,
  };
}
