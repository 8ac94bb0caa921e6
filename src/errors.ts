/** Base class for errors opsbot raises on purpose; carries a machine-readable code. */
export class OpsbotError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration problem: the process exits 78 (EX_CONFIG) with this message. */
export class ConfigError extends OpsbotError {
  constructor(message: string) {
    super(message, 'config');
  }
}

/** Input that failed validation; `issues` are path-level problems. */
export class ValidationError extends OpsbotError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message, 'validation');
  }
}

export const EX_CONFIG = 78;
