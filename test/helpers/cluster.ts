import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const run = promisify(execFile);

export interface LocalCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Three Redis masters in cluster mode on free ports, slots spread by `redis-cli --cluster create`. */
export async function startCluster(): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  const cli = (port: number, ...args: string[]) =>
    run('redis-cli', ['-p', String(port), ...args], { timeout: 20_000 });
  const deadline = Date.now() + 15_000;
  for (const port of ports) {
    for (;;) {
      const ok = await cli(port, 'ping').then(
        (r) => r.stdout.trim() === 'PONG',
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`redis ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await run(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'],
    { timeout: 30_000 },
  );
  for (;;) {
    const states = await Promise.all(ports.map((p) => cli(p, 'cluster', 'info')));
    if (states.every((s) => /cluster_state:ok/.test(s.stdout))) break;
    if (Date.now() > deadline + 15_000) throw new Error('cluster did not become ok');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    async stop() {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(
        procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
      );
    },
  };
}
