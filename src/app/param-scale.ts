// Maps parameter values to slider positions and back: linear or log, snapped to the step and to round numbers.
import type { NumberParameter } from '../scenario/schema.ts';

export const SLIDER_STEPS = 1000;

function isLog(p: NumberParameter): boolean {
  return !!p.log && p.min > 0;
}

export function toSlider(p: NumberParameter, value: number): number {
  const v = Math.min(p.max, Math.max(p.min, value));
  const share = isLog(p)
    ? Math.log(v / p.min) / Math.log(p.max / p.min)
    : (v - p.min) / (p.max - p.min);
  return Math.round(share * SLIDER_STEPS);
}

/** Decimal places of a step such as 0.01 → 2. */
function decimals(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

export function fromSlider(p: NumberParameter, position: number): number {
  const share = Math.min(1, Math.max(0, position / SLIDER_STEPS));
  let v = isLog(p) ? p.min * Math.pow(p.max / p.min, share) : p.min + share * (p.max - p.min);
  // Log sliders land on two significant digits (12,589 → 13,000): values people would type.
  if (isLog(p) && v > 0) {
    const magnitude = Math.pow(10, Math.floor(Math.log10(v)) - 1);
    v = Math.round(v / magnitude) * magnitude;
  }
  v = p.min + Math.round((v - p.min) / p.step) * p.step;
  v = Math.min(p.max, Math.max(p.min, v));
  return Number(v.toFixed(decimals(p.step)));
}
