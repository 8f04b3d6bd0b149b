// One colour per arm of a comparison: a protocol keeps its own; A/B arms take the Okabe–Ito colours in order.
import { armColour } from '../viz/palette.ts';

/** Okabe–Ito (colour-blind safe), as many as a comparison may have arms. */
const AB_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];

/** The i-th A/B arm's colour, the same in the editor, the table and every chart. */
export function abColour(index: number): string {
  return AB_COLOURS[index % AB_COLOURS.length];
}

/** An arm's colour: by position for A/B arms, by protocol otherwise. */
export function comparisonColour(label: string, index: number, ab: boolean): string {
  return ab ? abColour(index) : armColour(label);
}
