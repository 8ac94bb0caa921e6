import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compilePattern } from '../../../src/matching/re2.js';
import { LINE_CUT_MARKER, redactText, runSteps } from '../../../src/runbooks/executor.js';

const node = process.execPath;
const step = (
  name: string,
  code: string,
  extra: Partial<{ timeoutMs: number; continueOnError: boolean; args: string[] }> = {},
) => ({
  name,
  argv: [node, '-e', code, ...(extra.args ?? [])],
  timeoutMs: extra.timeoutMs ?? 5000,
  continueOnError: extra.continueOnError,
});
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runbook executor', () => {
  it('runs steps in order; a failure stops the run and skips the rest', async () => {
    const r = await runSteps([
      step('one', "console.log('one')"),
      step('two', 'process.exit(3)'),
      step('three', "console.log('three')"),
    ]);
    expect(r.status).toBe('failed');
    expect(r.steps.map((s) => s.status)).toEqual(['ok', 'failed', 'skipped']);
    expect(r.steps[1]!.exitCode).toBe(3);
    expect(r.output).toContain('one');
    expect(r.output).not.toContain('three');
  });

  it('continue_on_error goes on', async () => {
    const r = await runSteps([
      step('bad', 'process.exit(1)', { continueOnError: true }),
      step('good', "console.log('good')"),
    ]);
    expect(r.status).toBe('ok');
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'ok']);
  });

  it('a timeout kills the whole process tree', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'exec-'));
    const pidFile = path.join(dir, 'grandchild.pid');
    const code = `const { spawn } = require('child_process'); const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' }); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setTimeout(() => {}, 60000);`;
    const r = await runSteps([step('tree', code, { timeoutMs: 800 })]);
    expect(r.status).toBe('timeout');
    expect(r.steps[0]!.status).toBe('timeout');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const deadline = Date.now() + 5000;
    while (alive(grandchild) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    expect(alive(grandchild)).toBe(false);
  });

  it('an abort cancels the running step and the rest', async () => {
    const ac = new AbortController();
    const p = runSteps(
      [step('long', 'setTimeout(() => {}, 60000)'), step('after', "console.log('x')")],
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 200);
    const r = await p;
    expect(r.status).toBe('cancelled');
    expect(r.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('the environment is scrubbed to the allowlist (no bot token)', async () => {
    process.env.TELEGRAM_BOT_TOKEN = 'secret-bot-token';
    const r = await runSteps([step('env', 'console.log(JSON.stringify(process.env))')], {
      env: { ALLOWED: 'yes' },
    });
    delete process.env.TELEGRAM_BOT_TOKEN;
    const env = JSON.parse(r.output.trim().split('\n').pop()!) as Record<string, string>;
    expect(env.ALLOWED).toBe('yes');
    expect(env.TELEGRAM_BOT_TOKEN).toBeUndefined();
    expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['ALLOWED', 'PATH']));
    expect(r.output).not.toContain('secret-bot-token');
  });

  it('redacts secrets, even when a line arrives in pieces', async () => {
    const code =
      "process.stdout.write('pass'); setTimeout(() => process.stdout.write('word=hunter2 rest\\n'), 50)";
    const r = await runSteps([step('secret', code)], { redact: [compilePattern('password=\\S+')] });
    expect(r.steps[0]!.output).toBe('[redacted] rest');
    expect(r.output.split('\n').slice(1).join('\n')).not.toContain('hunter2');
    expect(redactText('a password=x b', [compilePattern('password=\\S+')])).toBe('a [redacted] b');
  });

  it('arguments with shell syntax arrive as single literal arguments', async () => {
    const r = await runSteps([
      step('argv', 'console.log(JSON.stringify(process.argv.slice(1)))', {
        args: ['a; echo INJECTED', '$(id)', '`id`'],
      }),
    ]);
    expect(JSON.parse(r.steps[0]!.output)).toEqual(['a; echo INJECTED', '$(id)', '`id`']);
  });

  it('a missing program is a failed step, output is capped, progress is reported', async () => {
    const miss = await runSteps([
      { name: 'nope', argv: ['definitely-not-a-program-xyz'], timeoutMs: 2000 },
    ]);
    expect(miss.status).toBe('failed');
    expect(miss.output).toContain('command not found: definitely-not-a-program-xyz');
    const seen: string[] = [];
    const big = await runSteps(
      [
        step(
          'big',
          "for (let i = 0; i < 5000; i++) console.log('line ' + i + ' ' + 'x'.repeat(40))",
        ),
      ],
      {
        maxOutputBytes: 4096,
        onProgress: (steps) => seen.push(steps[0]!.status),
      },
    );
    expect(big.output.length).toBeLessThan(4200);
    expect(big.output).toMatch(/bytes trimmed/);
    expect(big.output).toContain('line 4999');
    expect(seen[0]).toBe('running');
    expect(seen.at(-1)).toBe('ok');
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a line without a newline is cut at 64 KiB with a marker; the next line is kept', async () => {
    // 10 MB on one line, then a normal line
    const r = await runSteps(
      [
        step(
          'flood',
          "const b = 'y'.repeat(1 << 20); for (let i = 0; i < 10; i++) process.stdout.write(b); console.log(); console.log('after')",
          { timeoutMs: 20_000 },
        ),
      ],
      { maxOutputBytes: 1 << 20 },
    );
    expect(r.status).toBe('ok');
    const lines = r.output.split('\n');
    const cut = lines.find((l) => l.startsWith('yyy'))!;
    expect(cut.endsWith(LINE_CUT_MARKER)).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(2000 + LINE_CUT_MARKER.length);
    expect(lines.filter((l) => l.startsWith('y'))).toHaveLength(1);
    expect(lines).toContain('after');
  });

  it('redacts the literal secret values it is given, wherever they appear', async () => {
    const secret = 'tok-9f8e7d6c5b4a';
    const r = await runSteps(
      [
        step(
          'leak',
          "const s = process.argv[1]; process.stdout.write('a=' + s.slice(0, 5)); setTimeout(() => console.log(s.slice(5) + ' and ' + s), 50)",
          { args: [secret] },
        ),
      ],
      { secrets: [secret, 'a='] }, // values under 6 characters are not redacted
    );
    expect(r.output).not.toContain(secret);
    expect(r.output).toContain('a=[redacted] and [redacted]');
  });

  it('reports each step process group and never signals a pid after its child was reaped', async () => {
    const kill = vi.spyOn(process, 'kill');
    const spawned: number[] = [];
    const exitedPids: number[] = [];
    const r = await runSteps([step('quick', 'console.log(process.pid)')], {
      onSpawn: (pgid) => spawned.push(pgid),
      onExit: (pgid) => exitedPids.push(pgid),
    });
    expect(r.status).toBe('ok');
    const pid = Number(r.steps[0]!.output.trim());
    expect(spawned).toEqual([pid]);
    expect(exitedPids).toEqual([pid]);
    const signalled = kill.mock.calls.filter(([target]) => Math.abs(Number(target)) === pid);
    expect(signalled).toEqual([]);
  });

  it('a cancel kills a step that ignores SIGTERM before runSteps returns', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-exec-'));
    const pidFile = path.join(dir, 'pid');
    const abort = new AbortController();
    const run = runSteps(
      [
        step(
          'stubborn',
          "process.on('SIGTERM', () => {}); require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)",
          { args: [pidFile], timeoutMs: 60_000 },
        ),
      ],
      { signal: abort.signal, killGraceMs: 300, onSpawn: () => {} },
    );
    await vi.waitFor(() => expect(readFileSync(pidFile, 'utf8')).toMatch(/^\d+$/), {
      timeout: 5000,
    });
    abort.abort();
    const r = await run;
    expect(r.status).toBe('cancelled');
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});
