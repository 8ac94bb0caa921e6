import { readFileSync } from 'node:fs';

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

/** Reads a text file opsbot needs at start; an unreadable one is a ConfigError naming it. */
export function readConfigText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `${file}: cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
}
