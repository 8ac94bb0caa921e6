import { scopeDedup } from '../domain/dedup.js';
import type { Incident, IncidentRole } from '../domain/incident.js';
import type { EffectPlan } from './effects.js';
import type { Keys } from './keys.js';

type Guard = NonNullable<EffectPlan['guards']>[number];
type FieldSet = NonNullable<EffectPlan['hset']>[number];
type FieldDel = NonNullable<EffectPlan['hdel']>[number];

/** The keys the incident plans need (so callers hand over the key builder, not key names). */
export type PlanKeys = Pick<Keys, 'incident' | 'dedup'>;

/** Incident properties that people's actions guard on or change, and the hash fields they live in. */
const FIELDS = {
  id: 'id',
  state: 'state',
  severity: 'severity',
  ackAt: 'ack_at',
  ackBy: 'ack_by',
  resolvedAt: 'resolved_at',
  resolvedBy: 'resolved_by',
  assignee: 'assignee',
  lastUpdateAt: 'last_update_at',
  silencedUntil: 'silenced_until',
  escStep: 'esc_step',
  title: 'title',
  description: 'description',
} as const satisfies Partial<Record<keyof Incident, string>>;

export type IncidentField = keyof typeof FIELDS;
export type IncidentValues = { [F in IncidentField]?: NonNullable<Incident[F]> };

const roleField = (role: IncidentRole) => `role_${role}`;

/**
 * One incident's hash as pieces of an effect plan (guards, sets and deletes that apply_effects runs
 * atomically). The incident actions speak states, people and roles; only this file knows the
 * fields they are stored in.
 */
export function incidentFields(keys: PlanKeys, id: string) {
  const key = keys.incident(id);
  const is = <F extends IncidentField>(f: F, value: NonNullable<Incident[F]>): Guard => ({
    key,
    field: FIELDS[f],
    eq: String(value),
  });
  return {
    /** The plan applies only while `f` is `value`. */
    is,
    /** ... only while `f` is not `value`. */
    isNot: <F extends IncidentField>(f: F, value: NonNullable<Incident[F]>): Guard => ({
      key,
      field: FIELDS[f],
      ne: String(value),
    }),
    /** ... only while the incident exists. */
    exists: (): Guard => is('id', id),
    /** ... only while `person` holds `role`, or (no person) while nobody does. */
    roleHeldBy: (role: IncidentRole, person: string | undefined): Guard =>
      person
        ? { key, field: roleField(role), eq: person }
        : { key, field: roleField(role), missing: true },
    /** Sets each given property, in the order given (undefined ones are left alone). */
    set: (values: IncidentValues): FieldSet[] =>
      Object.entries(values)
        .filter(([, v]) => v !== undefined)
        .map(([f, v]) => ({ key, field: FIELDS[f as IncidentField], value: v as string | number })),
    setRole: (role: IncidentRole, person: string): FieldSet => ({
      key,
      field: roleField(role),
      value: person,
    }),
    unset: (...fields: IncidentField[]): FieldDel[] =>
      fields.map((f) => ({ key, field: FIELDS[f] })),
    /** The key that folds new alerts of `inc`'s dedup key into it; deleting it lets the next open a new incident. */
    dedupKey: (inc: Pick<Incident, 'integration' | 'dedup'>): string =>
      keys.dedup(scopeDedup(inc.integration, inc.dedup)),
  };
}
