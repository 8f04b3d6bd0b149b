// The decision wizard's state: the answers so far, the current step, and the recommendation derived from them.
import { DEFAULT_ANSWERS, decide, treePath, type Answers } from './decide.ts';

export const STEPS = [
  { id: 'latency', title: 'Latency' },
  { id: 'direction', title: 'Direction' },
  { id: 'scale', title: 'Scale' },
  { id: 'infra', title: 'Infrastructure' },
  { id: 'failures', title: 'Failures' },
  { id: 'result', title: 'Answer' },
] as const;
export type StepId = (typeof STEPS)[number]['id'];

const RESULT = STEPS.length - 1;

export class WizardState {
  answers = $state<Answers>(structuredClone(DEFAULT_ANSWERS));
  step = $state(0);
  readonly recommendation = $derived(decide(this.answers));
  /** The decision tree's nodes the answers walk through. */
  readonly path = $derived(treePath(this.answers));

  get stepId(): StepId {
    return STEPS[this.step].id;
  }

  /** Without a real-time need the tree ends at step one: the middle steps do not apply. */
  skipped(index: number): boolean {
    return !this.answers.realtime && index > 0 && index < RESULT;
  }

  next(): void {
    if (this.step === 0 && !this.answers.realtime) this.step = RESULT;
    else this.step = Math.min(RESULT, this.step + 1);
  }

  back(): void {
    if (this.step === RESULT && !this.answers.realtime) this.step = 0;
    else this.step = Math.max(0, this.step - 1);
  }

  goto(index: number): void {
    if (index >= 0 && index <= RESULT && !this.skipped(index)) this.step = index;
  }

  restart(): void {
    Object.assign(this.answers, structuredClone(DEFAULT_ANSWERS));
    this.step = 0;
  }
}
