/** `opsbot alert`: a test alert through the generic intake of a running opsbot, like `amtool alert add`. */
import { CliFailure, EX_UNAVAILABLE } from './common.js';

export interface TestAlert {
  url: string;
  token: string;
  title: string;
  labels: Record<string, string>;
  severity?: string;
  resolve?: boolean;
  dedupKey?: string;
  description?: string;
}

/** Posts the alert to `<url>/hooks/generic`; returns the incident ids the intake answers with. */
export async function sendTestAlert(a: TestAlert): Promise<string[]> {
  const endpoint = `${a.url.replace(/\/+$/, '')}/hooks/generic`;
  const body = {
    title: a.title,
    status: a.resolve ? 'resolved' : 'firing',
    labels: a.labels,
    ...(a.severity ? { severity: a.severity } : {}),
    ...(a.dedupKey ? { dedup_key: a.dedupKey } : {}),
    ...(a.description ? { description: a.description } : {}),
  };
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new CliFailure(`${endpoint}: ${cause}`, EX_UNAVAILABLE);
  }
  const text = await res.text();
  let json: { incidents?: unknown; error?: unknown; issues?: { path: string; message: string }[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    json = {};
  }
  if (res.status !== 202) {
    const issues = (json.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('; ');
    const what = typeof json.error === 'string' ? json.error : text.slice(0, 200);
    throw new CliFailure(
      `${endpoint}: HTTP ${res.status}: ${what}${issues ? ` (${issues})` : ''}`,
      1,
    );
  }
  return Array.isArray(json.incidents) ? json.incidents.map(String) : [];
}
