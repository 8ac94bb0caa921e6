import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REDIS_URL } from './redis.js';

/**
 * package.json's `start` script (of the checkout in `dir`) split the way sh runs it: the leading
 * `NAME=value` assignments (environment node must have before it starts, e.g. MALLOC_ARENA_MAX for
 * glibc), then node's arguments (`node <flags> dist/src/cli.js run`).
 */
export function startScript(dir = '.'): { env: Record<string, string>; args: string[] } {
  const pkg = JSON.parse(readFileSync(path.resolve(dir, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const [bin, ...args] = words;
  if (bin !== 'node') throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return { env, args };
}

/** The node arguments of package.json's `start` script (`node <flags> dist/src/cli.js run`). */
export function startScriptArgs(dir = '.'): string[] {
  return startScript(dir).args;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-cfg-'));
  const file = path.join(dir, 'opsbot.yaml');
  writeFileSync(file, yaml);
  return file;
}

export interface BotProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Runs the real entry point (src/main.ts through tsx) as a child process. */
export function spawnBot(
  env: Record<string, string>,
  opts: { compiled?: boolean; nodeArgs?: string[]; cwd?: string } = {},
): BotProcess {
  // compiled: exactly what `npm start` runs, its environment assignments and flags included
  const cwd = path.resolve(opts.cwd ?? '.');
  const start = opts.compiled ? startScript(cwd) : { env: {}, args: [] };
  const args = opts.compiled
    ? [...(opts.nodeArgs ?? []), ...start.args]
    : [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'info',
      ...env,
      ...start.env, // as in `NAME=value node ...`, the script's assignment wins
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (s = 'SIGTERM') => child.kill(s),
  };
}

/** Polls a started bot's /healthz until it answers 200 (throws after `timeoutMs`). */
export async function waitHealthy(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error('bot did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The environment of an opsbot child process against the test kit: its Bot API emulator, Redis
 * under `prefix`, `yaml` as the config file, HTTP on 127.0.0.1:`port`; `extra` adds or overrides.
 */
export function botEnv(o: {
  kit: { token: string; apiRoot: string };
  prefix: string;
  port: number;
  yaml: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: o.kit.token,
    TELEGRAM_API_ROOT: o.kit.apiRoot,
    REDIS_URL,
    OPSBOT_REDIS_PREFIX: o.prefix,
    OPSBOT_CONFIG: writeConfig(o.yaml),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(o.port),
    LOG_LEVEL: process.env.FAULT_LOG ?? 'warn',
    ...o.extra,
  };
}
