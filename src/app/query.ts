// The page's own URL keys (view, arms) split from the run's, so the run part goes to runFromQuery unchanged.
import { ScenarioError } from '../scenario/errors.ts';

/**
 * The views the header links to; `lab` (the default) also shows protocol comparisons, and
 * `compare` opens the comparison of any scenario (its arms in the `ab` key).
 */
export const VIEWS = ['lab', 'compare', 'wizard', 'playground'] as const;
export type View = (typeof VIEWS)[number];

/** Keys the page reads itself; every other key belongs to the run. */
export const APP_QUERY_KEYS = ['view', 'arms'] as const;

export interface PageQuery {
  view: View;
  /** The raw `arms` value (checked against the run by parseArms), or null when absent. */
  arms: string | null;
  /** The query without the page's keys, for runFromQuery. */
  runSearch: string;
}

/** Splits a query string; throws ScenarioError('view', …) for an unknown view. */
export function splitQuery(search: string): PageQuery {
  const query = new URLSearchParams(search);
  const view = query.get('view') ?? 'lab';
  if (!(VIEWS as readonly string[]).includes(view))
    throw new ScenarioError(
      'view',
      `unknown view ${JSON.stringify(view.slice(0, 40))}; choose ${VIEWS.join(', ')}`,
    );
  if (query.getAll('arms').length > 1) throw new ScenarioError('arms', 'appears twice in the URL');
  const arms = query.get('arms');
  const run = new URLSearchParams();
  for (const [k, v] of query)
    if (!(APP_QUERY_KEYS as readonly string[]).includes(k)) run.append(k, v);
  return { view: view as View, arms, runSearch: run.toString() };
}

/** A link to another view of the page, keeping the embed flag. */
export function viewHref(pathname: string, view: View, embed = false): string {
  const query = new URLSearchParams();
  if (view !== 'lab') query.set('view', view);
  if (embed) query.set('embed', '1');
  const text = query.toString();
  return `${pathname}${text ? `?${text}` : ''}`;
}
