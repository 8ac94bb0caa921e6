import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { loadRunbooks } from '../../../src/runbooks/loader.js';
import {
  paramsHash,
  renderArgv,
  renderTemplate,
  resolveParams,
} from '../../../src/runbooks/params.js';
import type { Runbook, RunbookParam } from '../../../src/runbooks/schema.js';

const COMMANDS = fileURLToPath(new URL('../../../commands', import.meta.url));
const files = readdirSync(COMMANDS).filter((f) => /\.ya?ml$/.test(f));
const library = loadRunbooks(COMMANDS);
const all = [...library.values()];

const REQUIRED_IDS = [
  'health-check',
  'system-restart',
  'cascade-reset',
  'memory-recovery',
  'disk-cleanup',
  'security-lockdown',
  'db-connection-check',
  'redis-check',
  'cpu-diagnosis',
  'heap-snapshot',
  'deploy-rollback',
  'scale-out',
  'cache-clear',
  'error-log-tail',
  'backup-verify',
  'diagnostics-bundle',
];

/** Sample values for required params that have only a pattern. */
const SAMPLES: Record<string, string> = { pid: '4242', ip: '203.0.113.7' };

function sample(p: RunbookParam): string | undefined {
  if (p.default !== undefined || !p.required) return undefined;
  return p.enum?.[0] ?? SAMPLES[p.name];
}

function sampleValues(rb: Runbook): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of rb.params) {
    const v = sample(p);
    if (v !== undefined) values[p.name] = v;
  }
  return values;
}

describe('seed runbook library (commands/)', () => {
  it('loads every file, one runbook per file named after its id', () => {
    expect(files.length).toBeGreaterThanOrEqual(REQUIRED_IDS.length);
    expect(library.size).toBe(files.length);
    for (const rb of all) expect(path.basename(rb.file!)).toBe(`${rb.id}.yaml`);
  });

  it('also loads through the relative path the config uses', () => {
    const rel = path.relative(process.cwd(), COMMANDS) || '.';
    expect([...loadRunbooks(rel).keys()]).toEqual([...library.keys()]);
  });

  it('has unique ids', () => {
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it.each(REQUIRED_IDS)('contains %s', (id) => {
    expect(library.has(id)).toBe(true);
  });

  it('puts security-lockdown under the two-person rule', () => {
    const rb = library.get('security-lockdown')!;
    expect(rb.approval).toEqual({ required: true, approvers: 2 });
    expect(['approver', 'admin']).toContain(rb.approveRole);
  });

  it.each(all.map((r) => [r.id, r] as const))(
    '%s: diagnostics need no approval, remediations do',
    (_id, rb) => {
      expect(rb.approval.required).toBe(rb.kind === 'remediation');
      expect(['approver', 'admin']).toContain(rb.approveRole);
    },
  );

  it.each(all.map((r) => [r.id, r] as const))(
    '%s: cites its seed, is tagged and described',
    (_id, rb) => {
      expect(readFileSync(rb.file!, 'utf8')).toMatch(
        /^# yaml-language-server: \$schema=\.\.\/runbook\.schema\.json\n# Seed: 00[0-4] /,
      );
      expect(rb.tags.length).toBeGreaterThan(0);
      expect(rb.description.length).toBeGreaterThan(20);
    },
  );

  it.each(all.map((r) => [r.id, r] as const))(
    '%s: runs programs directly, never a shell',
    (_id, rb) => {
      for (const step of rb.steps) {
        expect(['sh', 'bash', 'zsh', 'dash', 'ksh', 'env', 'sudo', 'xargs']).not.toContain(
          path.basename(step.run[0]!),
        );
        for (const arg of step.run)
          expect(['|', '||', '&&', ';', '>', '>>', '<']).not.toContain(arg);
      }
    },
  );

  it.each(all.map((r) => [r.id, r] as const))(
    '%s: renders with defaults and sample values',
    (_id, rb) => {
      const params = resolveParams(rb, sampleValues(rb));
      const argv = renderArgv(rb, params);
      expect(argv).toHaveLength(rb.steps.length);
      for (const run of argv) for (const arg of run) expect(arg).not.toContain('{{');
      expect(renderTemplate(rb.lock, params)).not.toContain('{{');
      expect(paramsHash(params)).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('disk-cleanup keeps the CONTRACT shape and is harmless by default', () => {
    const rb = library.get('disk-cleanup')!;
    expect(rb.approval).toEqual({ required: true, approvers: 1 });
    expect(rb.role).toBe('responder');
    const [service, days, dir] = rb.params;
    expect(service).toMatchObject({ name: 'service', enum: ['api', 'worker'], required: true });
    expect(days).toMatchObject({ name: 'days', pattern: '^[0-9]{1,3}$', default: '1' });
    expect(dir).toMatchObject({ name: 'dir', default: '/tmp/opsbot-demo' });
    const params = resolveParams(rb, { service: 'api' });
    expect(renderArgv(rb, params)[1]).toEqual([
      'find',
      '/tmp/opsbot-demo',
      '-xdev',
      '-mindepth',
      '1',
      '-type',
      'f',
      '-name',
      'api-*',
      '-mtime',
      '+1',
      '-delete',
    ]);
    for (const bad of [
      '/tmp/../etc',
      '/tmp/..',
      'tmp/x',
      '/',
      '/etc',
      '/tmp//x',
      '/tmp/-rf',
      '/tmp/a b',
    ]) {
      expect(() => resolveParams(rb, { service: 'api', dir: bad }), bad).toThrow(ValidationError);
    }
    expect(resolveParams(rb, { service: 'worker', dir: '/var/log/cctelegram' }).dir).toBe(
      '/var/log/cctelegram',
    );
  });

  it('keeps local-only URLs local', () => {
    const rb = library.get('health-check')!;
    for (const bad of [
      'http://evil.example:80',
      'http://localhost:8080@evil',
      'file:///etc/passwd',
      'http://localhost:8080/x',
    ]) {
      expect(() => resolveParams(rb, { base_url: bad }), bad).toThrow(ValidationError);
    }
  });

  it('lets SQL see only digits where a pid reaches it', () => {
    const rb = library.get('db-cancel-query')!;
    for (const bad of ['1; DROP TABLE users', '1)', '0', '-1', '1 OR 1=1']) {
      expect(() => resolveParams(rb, { pid: bad }), bad).toThrow(ValidationError);
    }
    const argv = renderArgv(rb, resolveParams(rb, { pid: '4242' }));
    expect(argv[1]!.at(-1)).toBe('SELECT pg_cancel_backend(4242)');
  });

  it('never reads arbitrary files in error-log-tail', () => {
    const rb = library.get('error-log-tail')!;
    expect(() => resolveParams(rb, { log_file: '/etc/shadow' })).toThrow(/one of:/);
  });
});
