import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REDIS_URL } from './redis.js';

/** The node arguments of package.json's `start` script (`node <flags> dist/src/main.js`). */
export function startScriptArgs(dir = '.'): string[] {
  const pkg = JSON.parse(readFileSync(path.resolve(dir, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [bin, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (bin !== 'node') throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return args;
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
  // compiled: exactly what `npm start` runs, flags included
  const cwd = path.resolve(opts.cwd ?? '.');
  const args = opts.compiled
    ? [...(opts.nodeArgs ?? []), ...startScriptArgs(cwd)]
    : [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'info',
      ...env,
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
