// The one error type for bad scenario files, parameter overrides, seeds and URL parameters.

/** A user-facing input error. `field` names what was wrong, the message says what is allowed. */
export class ScenarioError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ScenarioError';
  }
}
