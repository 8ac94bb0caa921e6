import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startScript } from '../helpers/process.js';

/** `ENV a=1 b=2` lines of a Dockerfile stage, as one map. */
function dockerEnv(stage: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, line] of stage.matchAll(/^ENV (.+)$/gm))
    for (const [, k, v] of line!.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[k!] = v!;
  return env;
}

describe('the start command', () => {
  // the image, `npm start` and every bench/test that spawns "the bot as npm start runs it" read
  // package.json's start script; the image must run the same environment and node flags
  it('the Docker image runs what `npm start` runs: same environment, same node flags', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
    const { env, args } = startScript();
    expect(cmd).toEqual(['node', ...args]);
    expect(dockerEnv(runtime)).toMatchObject(env);
  });

  it('one glibc malloc arena and the heap flags', () => {
    const { env, args } = startScript();
    expect(env).toEqual({ MALLOC_ARENA_MAX: '1' });
    expect(args.slice(-2)).toEqual(['dist/src/cli.js', 'run']);
    expect(args).toContain('--max-old-space-size=192');
  });
});
