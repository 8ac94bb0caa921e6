/**
 * Compact inline-button payloads (Telegram allows 64 bytes). Every payload refers to stored state by id;
 * decoding validates shape strictly, so forged or malformed data is refused before any handler runs.
 */
export type IncidentAction =
  | 'ack'
  | 'unack'
  | 'res'
  | 'esc'
  | 'sil'
  | 's1h'
  | 's4h'
  | 's24h'
  | 'sres'
  | 'back'
  | 'det'
  | 'rb'
  | 'uns';

const INCIDENT_ACTIONS = new Set<IncidentAction>([
  'ack',
  'unack',
  'res',
  'esc',
  'sil',
  's1h',
  's4h',
  's24h',
  'sres',
  'back',
  'det',
  'rb',
  'uns',
]);

export type CallbackData =
  | { kind: 'inc'; action: IncidentAction; seq: number }
  | { kind: 'list'; page: number }
  | { kind: 'runbook-offer'; runbook: string; seq: number }
  | { kind: 'runbook-show'; runbook: string }
  | { kind: 'approval'; vote: 'y' | 'n'; token: string }
  | { kind: 'run-details'; run: string }
  | { kind: 'silence-expire'; id: string }
  | { kind: 'declare'; step: string; value: string }
  | { kind: 'checklist'; seq: number; item: number }
  | { kind: 'update'; template: string; seq: number }
  | { kind: 'silence-confirm'; confirm: boolean; token: string }
  /** An Alertmanager silence by its UUID (sent as 32 hex digits: `ax:` + 32 = 35 bytes). */
  | { kind: 'am-expire'; id: string }
  | { kind: 'trade'; accept: boolean; id: string };

export function encodeCallback(d: CallbackData): string {
  let s: string;
  switch (d.kind) {
    case 'inc':
      s = `i:${d.action}:${d.seq}`;
      break;
    case 'list':
      s = `l:${d.page}`;
      break;
    case 'runbook-offer':
      s = `ro:${d.runbook}:${d.seq}`;
      break;
    case 'runbook-show':
      s = `rs:${d.runbook}`;
      break;
    case 'approval':
      s = `ap:${d.vote}:${d.token}`;
      break;
    case 'run-details':
      s = `rd:${d.run}`;
      break;
    case 'silence-expire':
      s = `sx:${d.id}`;
      break;
    case 'declare':
      s = `dc:${d.step}:${d.value}`;
      break;
    case 'checklist':
      s = `ck:${d.seq}:${d.item}`;
      break;
    case 'update':
      s = `up:${d.template}:${d.seq}`;
      break;
    case 'silence-confirm':
      s = `sc:${d.confirm ? 'y' : 'n'}:${d.token}`;
      break;
    case 'am-expire':
      s = `ax:${d.id.replace(/-/g, '').toLowerCase()}`;
      break;
    case 'trade':
      s = `tr:${d.accept ? 'y' : 'n'}:${d.id}`;
      break;
  }
  if (Buffer.byteLength(s) > 64) throw new Error(`callback data over 64 bytes: ${s}`);
  return s;
}

const SEQ = /^[1-9]\d{0,8}$/;
const RUNBOOK = /^[a-z0-9-]{1,40}$/;
const TOKEN = /^[0-9a-f]{32}$/;
const SMALL = /^[a-z0-9_-]{1,24}$/i;

/** Parses callback data; undefined for anything not produced by encodeCallback. */
export function decodeCallback(raw: string | undefined): CallbackData | undefined {
  if (!raw || raw.length > 64) return undefined;
  const parts = raw.split(':');
  const [k, a, b] = parts;
  switch (k) {
    case 'i':
      if (parts.length === 3 && INCIDENT_ACTIONS.has(a as IncidentAction) && SEQ.test(b ?? ''))
        return { kind: 'inc', action: a as IncidentAction, seq: Number(b) };
      return undefined;
    case 'l':
      return parts.length === 2 && /^\d{1,4}$/.test(a ?? '')
        ? { kind: 'list', page: Number(a) }
        : undefined;
    case 'ro':
      return parts.length === 3 && RUNBOOK.test(a ?? '') && SEQ.test(b ?? '')
        ? { kind: 'runbook-offer', runbook: a!, seq: Number(b) }
        : undefined;
    case 'rs':
      return parts.length === 2 && RUNBOOK.test(a ?? '')
        ? { kind: 'runbook-show', runbook: a! }
        : undefined;
    case 'ap':
      return parts.length === 3 && (a === 'y' || a === 'n') && TOKEN.test(b ?? '')
        ? { kind: 'approval', vote: a, token: b! }
        : undefined;
    case 'rd':
      return parts.length === 2 && TOKEN.test(a ?? '')
        ? { kind: 'run-details', run: a! }
        : undefined;
    case 'sx':
      return parts.length === 2 && /^[0-9a-f]{8,32}$/.test(a ?? '')
        ? { kind: 'silence-expire', id: a! }
        : undefined;
    case 'dc':
      return parts.length === 3 && SMALL.test(a ?? '') && SMALL.test(b ?? '')
        ? { kind: 'declare', step: a!, value: b! }
        : undefined;
    case 'ck':
      return parts.length === 3 && SEQ.test(a ?? '') && /^\d{1,2}$/.test(b ?? '')
        ? { kind: 'checklist', seq: Number(a), item: Number(b) }
        : undefined;
    case 'up':
      return parts.length === 3 && SMALL.test(a ?? '') && SEQ.test(b ?? '')
        ? { kind: 'update', template: a!, seq: Number(b) }
        : undefined;
    case 'sc':
      return parts.length === 3 && (a === 'y' || a === 'n') && TOKEN.test(b ?? '')
        ? { kind: 'silence-confirm', confirm: a === 'y', token: b! }
        : undefined;
    case 'ax': {
      if (parts.length !== 2 || !/^[0-9a-f]{32}$/.test(a ?? '')) return undefined;
      const h = a!;
      const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      return { kind: 'am-expire', id };
    }
    case 'tr':
      return parts.length === 3 && (a === 'y' || a === 'n') && TOKEN.test(b ?? '')
        ? { kind: 'trade', accept: a === 'y', id: b! }
        : undefined;
    default:
      return undefined;
  }
}
