/**
 * Errors a user can act on. The CLI prints their message alone (no stack) and exits non-zero;
 * anything else is a bug and keeps its stack.
 */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** A bad flag or argument; the message names it. */
export class UsageError extends LabError {
  constructor(message: string, readonly flag?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A file that cannot be read or is malformed; the message names it. */
export class InputError extends LabError {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Training or fitting went numerically wrong (a NaN loss, a diverging solver). */
export class NumericError extends LabError {
  constructor(message: string) {
    super(message);
    this.name = 'NumericError';
  }
}
