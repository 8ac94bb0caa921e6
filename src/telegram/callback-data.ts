/**
 * Compact inline-button payloads (Telegram allows 64 bytes): ONE codec for every button. Each kind
 * has a short prefix and a strict parser; the same table packs the buttons (`encodeCallback`),
 * decodes presses (`decodeCallback`, `unpack`) and gives the bot its routing filters (`route`).
 * Every payload refers to stored state by id; forged or malformed data is refused before a handler
 * runs.
 */
export const INCIDENT_ACTIONS = [
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
] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

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

export type CallbackKind = CallbackData['kind'];
/** The payload of one kind of button. */
export type CallbackOf<K extends CallbackKind> = Extract<CallbackData, { kind: K }>;

const SEQ = /^[1-9]\d{0,8}$/;
const RUNBOOK = /^[a-z0-9-]{1,40}$/;
const TOKEN = /^[0-9a-f]{32}$/;
const SMALL = /^[a-z0-9_-]{1,24}$/i;
const ACTIONS = new Set<string>(INCIDENT_ACTIONS);
const yn = (v: string | undefined): v is 'y' | 'n' => v === 'y' || v === 'n';

interface Spec<K extends CallbackKind> {
  prefix: string;
  /** The fields after the prefix. */
  pack(d: CallbackOf<K>): (string | number)[];
  /** The fields after the prefix, split on `:`; undefined when malformed. */
  parse(f: string[]): Omit<CallbackOf<K>, 'kind'> | undefined;
}

const SPECS: { [K in CallbackKind]: Spec<K> } = {
  inc: {
    prefix: 'i',
    pack: (d) => [d.action, d.seq],
    parse: ([a, b, ...x]) =>
      !x.length && ACTIONS.has(a ?? '') && SEQ.test(b ?? '')
        ? { action: a as IncidentAction, seq: Number(b) }
        : undefined,
  },
  list: {
    prefix: 'l',
    pack: (d) => [d.page],
    parse: ([a, ...x]) =>
      !x.length && /^\d{1,4}$/.test(a ?? '') ? { page: Number(a) } : undefined,
  },
  'runbook-offer': {
    prefix: 'ro',
    pack: (d) => [d.runbook, d.seq],
    parse: ([a, b, ...x]) =>
      !x.length && RUNBOOK.test(a ?? '') && SEQ.test(b ?? '')
        ? { runbook: a!, seq: Number(b) }
        : undefined,
  },
  'runbook-show': {
    prefix: 'rs',
    pack: (d) => [d.runbook],
    parse: ([a, ...x]) => (!x.length && RUNBOOK.test(a ?? '') ? { runbook: a! } : undefined),
  },
  approval: {
    prefix: 'ap',
    pack: (d) => [d.vote, d.token],
    parse: ([a, b, ...x]) =>
      !x.length && yn(a) && TOKEN.test(b ?? '') ? { vote: a, token: b! } : undefined,
  },
  'run-details': {
    prefix: 'rd',
    pack: (d) => [d.run],
    parse: ([a, ...x]) => (!x.length && TOKEN.test(a ?? '') ? { run: a! } : undefined),
  },
  'silence-expire': {
    prefix: 'sx',
    pack: (d) => [d.id],
    parse: ([a, ...x]) => (!x.length && /^[0-9a-f]{8,32}$/.test(a ?? '') ? { id: a! } : undefined),
  },
  declare: {
    prefix: 'dc',
    pack: (d) => [d.step, d.value],
    parse: ([a, b, ...x]) =>
      !x.length && SMALL.test(a ?? '') && SMALL.test(b ?? '') ? { step: a!, value: b! } : undefined,
  },
  checklist: {
    prefix: 'ck',
    pack: (d) => [d.seq, d.item],
    parse: ([a, b, ...x]) =>
      !x.length && SEQ.test(a ?? '') && /^\d{1,2}$/.test(b ?? '')
        ? { seq: Number(a), item: Number(b) }
        : undefined,
  },
  update: {
    prefix: 'up',
    pack: (d) => [d.template, d.seq],
    parse: ([a, b, ...x]) =>
      !x.length && SMALL.test(a ?? '') && SEQ.test(b ?? '')
        ? { template: a!, seq: Number(b) }
        : undefined,
  },
  'silence-confirm': {
    prefix: 'sc',
    pack: (d) => [d.confirm ? 'y' : 'n', d.token],
    parse: ([a, b, ...x]) =>
      !x.length && yn(a) && TOKEN.test(b ?? '') ? { confirm: a === 'y', token: b! } : undefined,
  },
  'am-expire': {
    prefix: 'ax',
    pack: (d) => [d.id.replace(/-/g, '').toLowerCase()],
    parse: ([h, ...x]) =>
      !x.length && h && /^[0-9a-f]{32}$/.test(h)
        ? {
            id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
          }
        : undefined,
  },
  trade: {
    prefix: 'tr',
    pack: (d) => [d.accept ? 'y' : 'n', d.id],
    parse: ([a, b, ...x]) =>
      !x.length && yn(a) && TOKEN.test(b ?? '') ? { accept: a === 'y', id: b! } : undefined,
  },
};

const KIND_OF = new Map<string, CallbackKind>(
  (Object.keys(SPECS) as CallbackKind[]).map((k) => [SPECS[k].prefix, k]),
);

export function encodeCallback(d: CallbackData): string {
  const spec = SPECS[d.kind] as Spec<CallbackKind>;
  const s = [spec.prefix, ...spec.pack(d)].join(':');
  if (Buffer.byteLength(s) > 64) throw new Error(`callback data over 64 bytes: ${s}`);
  return s;
}

/** Parses callback data; undefined for anything not produced by encodeCallback. */
export function decodeCallback(raw: string | undefined): CallbackData | undefined {
  if (!raw || raw.length > 64) return undefined;
  const [prefix, ...fields] = raw.split(':');
  const kind = KIND_OF.get(prefix ?? '');
  if (!kind) return undefined;
  const body = (SPECS[kind] as Spec<CallbackKind>).parse(fields);
  return body ? ({ kind, ...body } as CallbackData) : undefined;
}

/** Parses callback data of one kind; undefined when malformed or of another kind. */
export function unpack<K extends CallbackKind>(
  kind: K,
  raw: string | undefined,
): CallbackOf<K> | undefined {
  const d = decodeCallback(raw);
  return d?.kind === kind ? (d as CallbackOf<K>) : undefined;
}

/**
 * The routing filter of one kind of button, for `bot.callbackQuery(...)`: every payload with that
 * kind's prefix (malformed ones too, so their handler can answer "unknown button"). For incident
 * buttons, `only` or `except` narrows it by action.
 */
export function route(
  kind: CallbackKind,
  actions: { only?: readonly IncidentAction[]; except?: readonly IncidentAction[] } = {},
): RegExp {
  const head = `^${SPECS[kind].prefix}:`;
  if (actions.only) return new RegExp(`${head}(?:${actions.only.join('|')}):`);
  if (actions.except) return new RegExp(`${head}(?!(?:${actions.except.join('|')}):)`);
  return new RegExp(head);
}
