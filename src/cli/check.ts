/**
 * `opsbot check`: validates the config and every runbook offline (no Redis, no Telegram), prints
 * every error as `file: path: message`, warns about what is legal but probably wrong, and prints a
 * summary when clean.
 */
import { personOf } from '../bot/roles.js';
import { roleAtLeast, type OpsbotConfig, type RouteConfig } from '../config.js';
import { formatDuration } from '../duration.js';
import { nextOnCall, onCallAt } from '../escalation/schedule.js';
import { matchLabels } from '../incidents/routing.js';
import { SEVERITIES } from '../domain/severity.js';
import { checkRunbookDir } from '../runbooks/loader.js';
import type { Runbook } from '../runbooks/schema.js';
import { isoMinute, readConfig, shown } from './common.js';

/** A line of `opsbot check` output: where and what. */
export interface Finding {
  file: string;
  path?: string;
  message: string;
}

export interface CheckResult {
  errors: Finding[];
  warnings: Finding[];
  /** Summary lines, when there are no errors. */
  summary: string[];
}

/** Matchers as written in a route: `team=db`, `service=~api-.*`, `env!=prod`. */
export function formatMatchers(match: Record<string, string> | undefined): string {
  const parts = Object.entries(match ?? {}).map(([k, v]) =>
    /^(=~|!~|!=)/.test(v) ? `${k}${v}` : `${k}=${v}`,
  );
  return parts.length ? parts.join(' ') : '(every alert)';
}

/** True when every alert that `later` matches is matched by `earlier` too (checked by the matchers' text). */
function covers(earlier: RouteConfig, later: RouteConfig): boolean {
  for (const [k, spec] of Object.entries(earlier.match ?? {})) {
    const mine = later.match?.[k];
    if (mine === undefined) return false;
    if (mine === spec) continue;
    // `later` pins the label to one value: it is covered when `earlier` accepts that value
    const plain = !/^(=~|!~|!=)/.test(mine);
    if (!plain || !matchLabels({ [k]: spec }, { [k]: mine })) return false;
  }
  return true;
}

function highestRole(config: OpsbotConfig, name: string) {
  return personOf(config, { id: config.people[name]!.telegram_id }).role;
}

/** Legal but probably wrong: unused policies, people never paged, shadowed routes, unapprovable runbooks. */
export function configWarnings(
  config: OpsbotConfig,
  runbooks: Iterable<Runbook>,
  file: string,
): Finding[] {
  const out: Finding[] = [];
  const used = new Set(SEVERITIES.map((s) => config.severities[s]?.policy).filter(Boolean));
  for (const name of Object.keys(config.escalation_policies)) {
    if (!used.has(name))
      out.push({
        file,
        path: `escalation_policies.${name}`,
        message: 'no severity uses this policy',
      });
  }

  const paged = new Set<string>();
  for (const s of Object.values(config.schedules)) {
    s.rotation.members.forEach((m) => paged.add(m));
    s.overrides.forEach((o) => paged.add(o.person));
  }
  for (const p of Object.values(config.escalation_policies))
    for (const l of p.levels)
      for (const t of l.notify) if (t.startsWith('person:')) paged.add(t.slice('person:'.length));
  for (const name of Object.keys(config.people)) {
    if (!paged.has(name))
      out.push({
        file,
        path: `people.${name}`,
        message: 'in no schedule and no escalation policy: never paged',
      });
  }

  config.routes.forEach((r, j) => {
    const i = config.routes.slice(0, j).findIndex((earlier) => covers(earlier, r));
    if (i < 0) return;
    const why =
      config.routes[i]!.match && Object.keys(config.routes[i]!.match!).length
        ? `routes[${i}] (${formatMatchers(config.routes[i]!.match)}) matches every alert it matches`
        : `routes[${i}] matches every alert`;
    out.push({ file, path: `routes[${j}]`, message: `never reached: ${why}` });
  });

  const people = Object.keys(config.people).map((n) => ({ n, role: highestRole(config, n) }));
  for (const rb of runbooks) {
    if (!rb.approval.required) continue;
    const need = rb.approval.approvers;
    const approvers = people.filter((p) => roleAtLeast(p.role, rb.approveRole)).map((p) => p.n);
    const requesters = people.filter((p) => roleAtLeast(p.role, rb.role)).map((p) => p.n);
    // the requester's own vote never counts: some requester must leave `need` approvers besides them
    const possible = requesters.some((r) => approvers.filter((a) => a !== r).length >= need);
    if (!possible && requesters.length > 0)
      out.push({
        file: shown(rb.file ?? rb.id),
        path: 'approval.approvers',
        message: `needs ${need} approver(s) with role ${rb.approveRole} other than the requester; the config has ${approvers.length}${approvers.length ? ` (${approvers.join(', ')})` : ''}`,
      });
  }
  return out;
}

const ENDPOINTS: Record<string, (name: string) => string> = {
  alertmanager: () => 'POST /hooks/alertmanager',
  grafana: () => 'POST /hooks/grafana',
  generic: () => 'POST /hooks/generic',
  'events-v2': () => 'POST /v2/enqueue',
  heartbeat: (n) => `POST /hooks/heartbeat/${n}`,
  opsgenie: () => 'POST /opsgenie/v2/alerts',
};

/** The short summary of a clean config. */
export function configSummary(
  config: OpsbotConfig,
  runbookCount: number,
  now: number,
  runbooksDir: string,
): string[] {
  const lines: string[] = [];
  const chats = Object.entries(config.chats).map(
    ([n, c]) => `${n} (${c.id}${c.thread_id ? `, topic ${c.thread_id}` : ''})`,
  );
  lines.push(`chats: ${chats.join(', ')}`);

  const byRole = new Map<string, string[]>();
  for (const n of Object.keys(config.people)) {
    const r = highestRole(config, n);
    byRole.set(r, [...(byRole.get(r) ?? []), n]);
  }
  const roles = ['admin', 'approver', 'responder', 'viewer'].filter((r) => byRole.has(r));
  lines.push(
    `people: ${roles.map((r) => `${r} ${byRole.get(r)!.join(', ')}`).join('; ') || 'none'}`,
  );

  lines.push(`schedules:${Object.keys(config.schedules).length ? '' : ' none'}`);
  for (const [n, s] of Object.entries(config.schedules)) {
    const cur = onCallAt(s, now);
    const nxt = nextOnCall(s, now);
    lines.push(
      `  ${n}: ${cur ? `${cur.person} on call now until ${isoMinute(cur.to)}${cur.override ? ' (override)' : ''}` : 'nobody on call now'}${nxt ? `; next ${nxt.person} from ${isoMinute(nxt.from)}` : ''}`,
    );
  }

  lines.push(
    `escalation policies:${Object.keys(config.escalation_policies).length ? '' : ' none'}`,
  );
  for (const [n, p] of Object.entries(config.escalation_policies)) {
    const sevs = SEVERITIES.filter((s) => config.severities[s]?.policy === n);
    const levels = p.levels.map(
      (l) => `${l.after ? formatDuration(l.after) : '0s'} ${l.notify.join(', ')}`,
    );
    lines.push(
      `  ${n}: ${levels.join(' → ')}${p.repeat ? `; repeat ${p.repeat}` : ''}${sevs.length ? ` (${sevs.join(', ')})` : ''}`,
    );
  }

  lines.push(
    `routes:${config.routes.length ? '' : ` none (everything goes to ${Object.keys(config.chats)[0]})`}`,
  );
  config.routes.forEach((r, i) => {
    const extra = [
      r.also?.length ? `also ${r.also.join(', ')}` : '',
      r.severity ? `severity ${r.severity}` : '',
      r.severity_from ? `severity from label ${r.severity_from}` : '',
    ].filter(Boolean);
    lines.push(
      `  [${i}] ${formatMatchers(r.match)} → ${r.chat}${extra.length ? ` (${extra.join('; ')})` : ''}`,
    );
  });

  lines.push(`integrations:${Object.keys(config.integrations).length ? '' : ' none'}`);
  for (const [n, it] of Object.entries(config.integrations)) {
    const kind = String(it.kind);
    const endpoint = ENDPOINTS[kind]?.(n) ?? '';
    const every = it.every ? ` every ${formatDuration(it.every)}` : '';
    lines.push(`  ${n}: ${kind}${endpoint ? ` ${endpoint}` : ''}${every}`);
  }
  lines.push(`runbooks: ${runbookCount} in ${shown(runbooksDir)}`);
  return lines;
}

/** Everything `opsbot check` finds in a config file and its runbooks. */
export function checkConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): CheckResult {
  const { config, issues } = readConfig(file, env);
  const errors: Finding[] = issues.map((i) => ({ file, path: i.path, message: i.message }));
  if (!config) return { errors, warnings: [], summary: [] };
  const rb = checkRunbookDir(config.runbooks_dir);
  errors.push(
    ...rb.issues.map((i) => ({
      file: shown(i.file),
      ...(i.path ? { path: i.path } : {}),
      message: i.message,
    })),
  );
  const warnings = configWarnings(config, rb.runbooks.values(), file);
  const summary = errors.length
    ? []
    : configSummary(config, rb.runbooks.size, now, config.runbooks_dir);
  return { errors, warnings, summary };
}

/** `file: path: message`. */
export function formatFinding(f: Finding): string {
  return f.path ? `${f.file}: ${f.path}: ${f.message}` : `${f.file}: ${f.message}`;
}
