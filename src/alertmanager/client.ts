import type { IntegrationConfig } from '../config.js';
import { parseSpec } from '../matching/re2.js';

/** One Alertmanager API v2 matcher. */
export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** A silence as Alertmanager's `GET /api/v2/silences` lists it. */
export interface AmSilence {
  id: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}

/** Translates opsbot matcher specs (`v`, `!=v`, `=~re`, `!~re`; RE2 either side) to Alertmanager's. */
export function toAmMatchers(matchers: Record<string, string>): AmMatcher[] {
  return Object.entries(matchers).map(([name, spec]) => {
    const { op, value } = parseSpec(spec);
    return { name, value, isRegex: op === '=~' || op === '!~', isEqual: op === '=' || op === '=~' };
  });
}

/** `name=value`, `name!~re`... as amtool prints them. */
export function formatAmMatchers(ms: AmMatcher[]): string {
  const op = (m: AmMatcher) => (m.isEqual ? (m.isRegex ? '=~' : '=') : m.isRegex ? '!~' : '!=');
  return ms.map((m) => `${m.name}${op(m)}${m.value}`).join(' ');
}

/**
 * Why a call failed: `unreachable` (network error, timeout, a 3xx (redirects are not followed),
 * 408/425/429 or a 5xx: retried) or `refused` (another 4xx: retrying will not help).
 */
export class AmError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'refused',
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AmError';
  }
}

/** Each request gives up after this long. */
export const AM_TIMEOUT_MS = 10_000;

/**
 * A small client for Alertmanager's API v2 silences. No redirects are followed, each request times
 * out after 10 s, and the credentials are the integration's `api_auth` (from `${VAR}` in the YAML).
 */
export function createAmClient(
  integ: Pick<IntegrationConfig, 'api_url' | 'api_auth'>,
  timeoutMs = AM_TIMEOUT_MS,
) {
  const base = (integ.api_url ?? '').replace(/\/+$/, '');
  const auth = integ.api_auth;
  const headers: Record<string, string> = { 'user-agent': 'opsbot', accept: 'application/json' };
  if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
  else if (auth && 'basic' in auth)
    headers.authorization = `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`).toString('base64')}`;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const why = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.message);
      throw new AmError(`Alertmanager ${method} ${path}: ${why.slice(0, 100)}`, 'unreachable');
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) {
      try {
        return text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        return undefined;
      }
    }
    const retriable = res.status < 400 || res.status >= 500 || [408, 425, 429].includes(res.status);
    throw new AmError(
      `Alertmanager ${method} ${path} → ${res.status} ${text.slice(0, 200)}`.trim(),
      retriable ? 'unreachable' : 'refused',
      res.status,
    );
  }

  return {
    /** `POST /api/v2/silences`; with `id`, Alertmanager updates that silence. Returns the silence id. */
    async create(s: {
      id?: string;
      matchers: AmMatcher[];
      startsAt: number;
      endsAt: number;
      createdBy: string;
      comment: string;
    }): Promise<string> {
      const r = (await call('POST', '/api/v2/silences', {
        ...(s.id ? { id: s.id } : {}),
        matchers: s.matchers,
        startsAt: new Date(s.startsAt).toISOString(),
        endsAt: new Date(s.endsAt).toISOString(),
        createdBy: s.createdBy,
        comment: s.comment,
      })) as { silenceID?: string } | undefined;
      if (!r?.silenceID)
        throw new AmError('Alertmanager answered without a silenceID', 'unreachable');
      return r.silenceID;
    },
    /** `DELETE /api/v2/silence/{id}`; a silence Alertmanager no longer knows counts as expired. */
    async expire(id: string): Promise<void> {
      try {
        await call('DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
      } catch (e) {
        if (e instanceof AmError && e.status === 404) return;
        throw e;
      }
    },
    /** Active silences, ending soonest first. */
    async active(): Promise<AmSilence[]> {
      const r = (await call('GET', '/api/v2/silences')) as AmSilence[] | undefined;
      return (Array.isArray(r) ? r : [])
        .filter((s) => s.status?.state === 'active')
        .sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));
    },
  };
}

export type AmClient = ReturnType<typeof createAmClient>;
