import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './paths.js';

/** opsbot's version from package.json; `0.0.0` when it cannot be read. */
export function readVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '0.0.0';
  }
}
