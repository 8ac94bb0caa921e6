/**
 * Runbook schema: the format of `commands/*.yaml` (id, title, params, argv steps, approval, lock,
 * env, …). Parsing turns the YAML shape (snake_case, duration strings; ./shape.ts) into a
 * {@link Runbook} (camelCase, milliseconds; ./model.ts). Every rule that protects execution is
 * checked at load time (./shape.ts per field, ./checks.ts across fields), so a runbook that loads
 * is safe to render: placeholders name declared params, the program (argv[0]) is never a
 * parameter, defaults satisfy their own enum/pattern and no secret variable is passed through.
 */
import type { z } from 'zod';
import { checkRunbook, toRunbook } from './checks.js';
import { shapeSchema } from './shape.js';

export * from './model.js';

/** zod schema of one runbook document; parses to {@link Runbook}. */
export const runbookSchema = shapeSchema.superRefine(checkRunbook).transform(toRunbook);

/** The YAML (input) shape of a runbook, e.g. for tests and tooling. */
export type RunbookInput = z.input<typeof runbookSchema>;
