import http from 'node:http';
import net from 'node:net';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';

/** One call the bot made to the Bot API, seen by the recording proxy. */
export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
  /** When the call reached the proxy (Date.now()); `at` is when it was answered. */
  arrivedAt: number;
}

export interface BotMessage {
  messageId: number;
  chatId: number;
  text: string;
  threadId?: number;
  parseMode?: string;
  buttons: { text: string; data?: string; url?: string }[][];
  /** A photo or document message (sendPhoto / sendDocument through the proxy): its caption. */
  caption?: string;
  media?: 'photo' | 'document';
}

export interface UserHandle {
  /** `thread`: written in that forum topic (message_thread_id, is_topic_message, as Telegram sends it). */
  command(text: string, extra?: { replyTo?: number; thread?: number }): Promise<void>;
  say(text: string, extra?: { replyTo?: number; thread?: number }): Promise<void>;
  press(messageId: number, data: string): Promise<void>;
}

export interface TelegramKit {
  server: TelegramServer;
  token: string;
  emulatorRoot: string;
  apiRoot: string;
  calls: RecordedCall[];
  failNext(
    method: string,
    count: number,
    response: { status: number; body: object },
    match?: (body: Record<string, unknown>) => boolean,
  ): void;
  setDown(down: boolean): void;
  /** A network partition: sendMessage calls are accepted and never answered (nor delivered); off drops them. */
  setHang(hang: boolean): void;
  /**
   * Holds the answer to the next `method` call matching `match`: Telegram (the emulator) has done
   * it, but the bot hears back only after `release()`. `arrived` resolves when the call is held.
   */
  gate(
    method: string,
    match?: (body: Record<string, unknown>) => boolean,
  ): { arrived: Promise<void>; release(): void };
  user(u: {
    id: number;
    name?: string;
    chatId: number;
    chatType?: 'group' | 'supergroup' | 'private';
    chatTitle?: string;
  }): UserHandle;
  botMessages(chatId?: number): BotMessage[];
  waitFor<T>(
    fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
    opts?: { timeoutMs?: number; label?: string },
  ): Promise<T>;
  waitForMessage(
    pred: (m: BotMessage) => boolean,
    opts?: { timeoutMs?: number; label?: string },
  ): Promise<BotMessage>;
  callsOf(method: string): RecordedCall[];
  /** Calls of `method` to `chatId` that the Bot API answered 200, whose text contains every one of `texts`. */
  okCalls(method: string, chatId: number, ...texts: string[]): RecordedCall[];
  answers(): Record<string, unknown>[];
  /**
   * Queues a raw update (any kind the emulator cannot make, e.g. `my_chat_member`) for the bot's next
   * `getUpdates` (polling mode); returns its update_id.
   */
  injectUpdate(update: Record<string, unknown>): number;
  /** Forum topics the bot created, by chat id (createForumTopic and friends, answered by the proxy). */
  topics: Map<number, ForumTopicState[]>;
  /**
   * How a chat answers topic calls: by default a group (negative id) is a forum where the bot may
   * manage topics; `forum: false` answers "the chat is not a forum", `rights: false` "not enough rights".
   */
  setForum(chatId: number, o: { forum?: boolean; rights?: boolean }): void;
  reset(): void;
  stop(): Promise<void>;
  /** Photos and documents the bot sent (URL or uploaded bytes, file name, caption), oldest first. */
  files: SentFile[];
  /** Which photo URLs Telegram "cannot fetch" (400); default: URLs containing `unreachable`. */
  setUnfetchable(pred: (url: string) => boolean, description?: string): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function parseBody(raw: string, type: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (type?.includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

type Stored = { messageId: number; message: Record<string, unknown> };

/** A forum topic as the test Bot API keeps it. */
export interface ForumTopicState {
  message_thread_id: number;
  name: string;
  icon_color: number;
  closed: boolean;
}

/** Telegram's six allowed topic colours. */
const TOPIC_COLORS = new Set([0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f]);

/**
 * Bot API methods telegram-test-api lacks, answered here as Telegram documents them: forum topics
 * (createForumTopic → ForumTopic; editForumTopic, closeForumTopic, reopenForumTopic → true) and
 * setMessageReaction (→ true). Returns undefined for any other method (forwarded to the emulator).
 */
function answerTopicCall(
  method: string,
  body: Record<string, unknown>,
  topics: Map<number, ForumTopicState[]>,
  forums: Map<number, { forum: boolean; rights: boolean }>,
  nextThread: () => number,
): { status: number; body: object } | undefined {
  const bad = (description: string) => ({
    status: 400,
    body: { ok: false, error_code: 400, description: `Bad Request: ${description}` },
  });
  const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } });
  if (method === 'setMessageReaction') return ok(true);
  const topicMethods = [
    'createForumTopic',
    'editForumTopic',
    'closeForumTopic',
    'reopenForumTopic',
  ];
  if (!topicMethods.includes(method)) return undefined;
  const chatId = Number(body.chat_id);
  const mode = forums.get(chatId) ?? { forum: chatId < 0, rights: true };
  if (!mode.forum) return bad('the chat is not a forum');
  if (!mode.rights)
    return bad(
      method === 'createForumTopic'
        ? 'not enough rights to create a topic'
        : 'not enough rights to manage topics',
    );
  const list = topics.get(chatId) ?? [];
  topics.set(chatId, list);
  const validName = (n: unknown) => typeof n === 'string' && n.length >= 1 && n.length <= 128;
  if (method === 'createForumTopic') {
    if (!validName(body.name)) return bad('TOPIC_NAME_INVALID');
    const color = body.icon_color === undefined ? 0x6fb9f0 : Number(body.icon_color);
    if (!TOPIC_COLORS.has(color)) return bad('TOPIC_ICON_COLOR_INVALID');
    const t = { message_thread_id: nextThread(), name: String(body.name), icon_color: color };
    list.push({ ...t, closed: false });
    return ok(t);
  }
  const t = list.find((x) => x.message_thread_id === Number(body.message_thread_id));
  if (!t) return bad('message thread not found');
  if (method === 'editForumTopic') {
    if (body.name !== undefined && !validName(body.name)) return bad('TOPIC_NAME_INVALID');
    if (body.name === undefined || body.name === t.name) return bad('TOPIC_NOT_MODIFIED');
    t.name = String(body.name);
    return ok(true);
  }
  const close = method === 'closeForumTopic';
  if (t.closed === close) return bad('TOPIC_NOT_MODIFIED');
  t.closed = close;
  return ok(true);
}

/**
 * Starts telegram-test-api on a free port with a recording proxy in front of it. Bots under test
 * use `apiRoot`; the proxy records every call (method, body, time) and can inject 429s, 5xx or an outage.
 */
export async function startTelegram(opts: { storeTimeout?: number } = {}): Promise<TelegramKit> {
  const port = await freePort();
  const server = new TelegramServer({
    port,
    host: '127.0.0.1',
    storeTimeout: opts.storeTimeout ?? 3600,
  });
  await server.start();
  const token = '123456:TEST-opsbot';
  const emulatorRoot = `http://127.0.0.1:${port}`;
  const calls: RecordedCall[] = [];
  const faults: {
    method: string;
    count: number;
    response: { status: number; body: object };
    match?: (body: Record<string, unknown>) => boolean;
  }[] = [];
  let down = false;
  let hang = false;
  const injected: Record<string, unknown>[] = [];
  let injectedSeq = 1_500_000_000;
  const topics = new Map<number, ForumTopicState[]>();
  const forums = new Map<number, { forum: boolean; rights: boolean }>();
  let threadSeq = 50_000;
  const held: http.ServerResponse[] = [];
  const gates: {
    method: string;
    match: (body: Record<string, unknown>) => boolean;
    arrived: () => void;
    released: Promise<void>;
  }[] = [];
  const media = createMediaEmulator(server, token);
  // calls go on to the emulator over kept-alive connections, as the bot's own calls reach the proxy
  const upstream = new http.Agent({ keepAlive: true });

  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrivedAt = Date.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const method = (req.url ?? '').split('?')[0]!.split('/').pop() ?? '';
      const type = req.headers['content-type'];
      const body = type?.includes('multipart/form-data')
        ? parseMultipart(Buffer.concat(chunks), type).fields
        : parseBody(raw, type);
      const record = (status: number) =>
        calls.push({ method, body, at: Date.now(), status, arrivedAt });
      if (hang && method === 'sendMessage') {
        record(0);
        held.push(res);
        return;
      }
      if (down) {
        record(503);
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 503, description: 'Service Unavailable' }));
        return;
      }
      const f = faults.find(
        (x) =>
          (x.method === method || x.method === '*') && x.count > 0 && (!x.match || x.match(body)),
      );
      if (f) {
        f.count--;
        record(f.response.status);
        res.writeHead(f.response.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(f.response.body));
        return;
      }
      if (method === 'leaveChat') {
        // the emulator lacks it; Telegram answers True
        record(200);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, result: true }));
        return;
      }
      if (media.handles(method, body)) {
        const r = media.answer(method, Buffer.concat(chunks), type);
        record(r.status);
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(r.json));
        return;
      }
      const own = answerTopicCall(method, body, topics, forums, () => threadSeq++);
      if (own) {
        record(own.status);
        res.writeHead(own.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(own.body));
        return;
      }
      const fwd = http.request(
        `${emulatorRoot}${req.url}`,
        {
          method: req.method,
          agent: upstream,
          headers: {
            ...req.headers,
            host: `127.0.0.1:${port}`,
            'content-length': Buffer.byteLength(raw),
          },
        },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', async () => {
            const g = gates.findIndex((x) => x.method === method && x.match(body));
            if (g >= 0) {
              // Telegram has taken the call; its answer reaches the bot only when the test says so
              const [gate] = gates.splice(g, 1);
              gate!.arrived();
              await gate!.released;
            }
            record(up.statusCode ?? 0);
            res.writeHead(up.statusCode ?? 502, {
              'content-type': up.headers['content-type'] ?? 'application/json',
            });
            if (method === 'getUpdates' && up.statusCode === 200 && injected.length > 0) {
              const got = JSON.parse(Buffer.concat(out).toString('utf8')) as { result: unknown[] };
              got.result.push(...injected.splice(0));
              res.end(JSON.stringify(got));
              return;
            }
            res.end(Buffer.concat(out));
          });
        },
      );
      fwd.on('error', (e) => {
        record(502);
        res.writeHead(502);
        res.end(String(e));
      });
      fwd.end(raw);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const apiRoot = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;

  const botMessages = (chatId?: number): BotMessage[] => {
    const stored = server.storage.botMessages as unknown as Stored[];
    return stored
      .map((s) => {
        const m = s.message;
        const markup = (
          typeof m.reply_markup === 'string' ? JSON.parse(m.reply_markup) : m.reply_markup
        ) as
          | { inline_keyboard?: { text: string; callback_data?: string; url?: string }[][] }
          | undefined;
        return {
          messageId: s.messageId,
          chatId: Number(m.chat_id),
          text: String(m.text ?? ''),
          ...(m.message_thread_id !== undefined ? { threadId: Number(m.message_thread_id) } : {}),
          ...(m.parse_mode ? { parseMode: String(m.parse_mode) } : {}),
          buttons: (markup?.inline_keyboard ?? []).map((row) =>
            row.map((b) => ({ text: b.text, data: b.callback_data, url: b.url })),
          ),
          ...(m.photo || m.document
            ? { media: m.photo ? ('photo' as const) : ('document' as const) }
            : {}),
          ...(m.caption !== undefined ? { caption: String(m.caption) } : {}),
        };
      })
      .filter((m) => chatId === undefined || m.chatId === chatId);
  };

  async function waitFor<T>(
    fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
    o: { timeoutMs?: number; label?: string } = {},
  ): Promise<T> {
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) {
        const recent = botMessages()
          .slice(-5)
          .map(
            (m) => `  [${m.chatId}#${m.messageId}] ${m.text.slice(0, 160).replace(/\n/g, ' | ')}`,
          )
          .join('\n');
        throw new Error(
          `waitFor timed out: ${o.label ?? 'condition'}\nlast bot messages:\n${recent}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  let msgSeq = 1_000_000;
  return {
    server,
    token,
    emulatorRoot,
    apiRoot,
    calls,
    failNext(method, count, response, match) {
      faults.push({ method, count, response, match });
    },
    setDown(d) {
      down = d;
    },
    gate(method, match = () => true) {
      let arrived!: () => void;
      let release!: () => void;
      const a = new Promise<void>((r) => (arrived = r));
      const released = new Promise<void>((r) => (release = r));
      gates.push({ method, match, arrived, released });
      return { arrived: a, release };
    },
    setHang(h) {
      hang = h;
      if (!h) for (const r of held.splice(0)) r.destroy();
    },
    user(u) {
      const client = server.getClient(token, {
        userId: u.id,
        chatId: u.chatId,
        firstName: u.name ?? `user${u.id}`,
        userName: u.name ?? `user${u.id}`,
        type: u.chatType ?? 'group',
        chatTitle: u.chatTitle ?? 'ops',
      });
      const type = u.chatType ?? 'group';
      // in a forum topic Telegram marks the message and, unless it replies to something else,
      // makes it a reply to the topic's "topic created" service message
      const inTopic = (thread?: number, replyTo?: number) => {
        if (thread === undefined) return {};
        const topic = topics.get(u.chatId)?.find((x) => x.message_thread_id === thread);
        return {
          message_thread_id: thread,
          is_topic_message: true,
          chat: { id: u.chatId, type, is_forum: true },
          ...(replyTo === undefined
            ? {
                reply_to_message: {
                  message_id: thread,
                  message_thread_id: thread,
                  chat: { id: u.chatId, type, is_forum: true },
                  date: Math.floor(Date.now() / 1000),
                  from: { id: 666, is_bot: true, first_name: 'Test', username: 'TestNameBot' },
                  forum_topic_created: {
                    name: topic?.name ?? 'topic',
                    icon_color: topic?.icon_color ?? 0x6fb9f0,
                  },
                },
              }
            : {}),
        };
      };
      const reply = (replyTo?: number) => {
        if (replyTo === undefined) return {};
        const orig = botMessages().find((m) => m.messageId === replyTo);
        return {
          reply_to_message: {
            message_id: replyTo,
            chat: { id: u.chatId, type: u.chatType ?? 'group' },
            date: Math.floor(Date.now() / 1000),
            ...(orig?.media
              ? { caption: orig.caption?.replace(/<[^>]+>/g, '') ?? '' }
              : { text: orig?.text.replace(/<[^>]+>/g, '') ?? '' }),
            from: { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' },
          },
        };
      };
      return {
        async command(text, extra) {
          const m = client.makeCommand(text, {
            ...(reply(extra?.replyTo) as object),
            ...inTopic(extra?.thread, extra?.replyTo),
          } as never);
          await client.sendCommand(m as never);
        },
        async say(text, extra) {
          const m = client.makeMessage(text, {
            ...(reply(extra?.replyTo) as object),
            ...inTopic(extra?.thread, extra?.replyTo),
            message_id: msgSeq++,
          } as never);
          await client.sendMessage(m as never);
        },
        async press(messageId, data) {
          const q = client.makeCallbackQuery(data, {
            message: { message_id: messageId, chat: { id: u.chatId, type: u.chatType ?? 'group' } },
          } as never);
          await client.sendCallback(q as never);
        },
      };
    },
    botMessages,
    waitFor,
    waitForMessage: (pred, o) => waitFor(() => botMessages().find(pred), o),
    callsOf: (method) => calls.filter((c) => c.method === method),
    okCalls: (method, chatId, ...texts) =>
      calls.filter(
        (c) =>
          c.method === method &&
          c.status === 200 &&
          Number(c.body.chat_id) === chatId &&
          texts.every((x) => String(c.body.text).includes(x)),
      ),
    answers: () => calls.filter((c) => c.method === 'answerCallbackQuery').map((c) => c.body),
    injectUpdate(update) {
      const id = injectedSeq++;
      injected.push({ ...update, update_id: id });
      return id;
    },
    files: media.files,
    setUnfetchable: media.setUnfetchable,
    topics,
    setForum(chatId, o) {
      const cur = forums.get(chatId) ?? { forum: chatId < 0, rights: true };
      forums.set(chatId, { ...cur, ...o });
    },
    reset() {
      calls.length = 0;
    },
    async stop() {
      for (const r of held.splice(0)) r.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      proxy.closeAllConnections?.();
      upstream.destroy();
      await server.stop();
    },
  };
}

/** A photo or document the bot sent through the proxy (sendPhoto / sendDocument). */
export interface SentFile {
  method: 'sendPhoto' | 'sendDocument';
  chatId: number;
  messageId: number;
  /** The URL the bot gave (Telegram fetches it), for a photo sent by URL. */
  url?: string;
  /** The uploaded bytes and file name, for a multipart/form-data upload. */
  bytes?: Buffer;
  filename?: string;
  caption?: string;
  parseMode?: string;
  threadId?: number;
  replyTo?: number;
  buttons: { text: string; data?: string; url?: string }[][];
}

type Fields = Record<string, unknown>;
type Upload = { filename: string; bytes: Buffer };

/** Parses a multipart/form-data body (grammY writes `name="x";filename=y`, unquoted, no spaces). */
export function parseMultipart(
  buf: Buffer,
  type: string,
): { fields: Record<string, string>; files: Record<string, Upload> } {
  const fields: Record<string, string> = {};
  const files: Record<string, Upload> = {};
  const b = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!b) return { fields, files };
  const delim = Buffer.from(`--${b[1] ?? b[2]}`);
  let pos = buf.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (buf.subarray(start, start + 2).toString() === '--') break;
    const next = buf.indexOf(delim, start);
    if (next < 0) break;
    const part = buf.subarray(start + 2, next - 2); // the CRLFs after and before the delimiters
    const sep = part.indexOf('\r\n\r\n');
    if (sep >= 0) {
      const head = part.subarray(0, sep).toString('utf8');
      const data = part.subarray(sep + 4);
      const name = /(?:^|[;\s])name="([^"]*)"/i.exec(head)?.[1];
      const fn = /filename=(?:"([^"]*)"|([^;\r\n]+))/i.exec(head);
      if (name !== undefined) {
        if (fn) files[name] = { filename: (fn[1] ?? fn[2] ?? '').trim(), bytes: Buffer.from(data) };
        else fields[name] = data.toString('utf8');
      }
    }
    pos = next;
  }
  return { fields, files };
}

/** Telegram's count of an HTML text: tags left out, each entity one character. */
function visibleLength(html: string): number {
  return html.replace(/<[^>]*>/g, '').replace(/&(?:[a-z]+|#\d+|#x[0-9a-f]+);/gi, '_').length;
}

/** Width and height of a PNG (from its IHDR chunk); undefined for anything else. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.readUInt32BE(0) !== 0x89504e47) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const MIME: Record<string, string> = {
  md: 'text/markdown',
  txt: 'text/plain',
  png: 'image/png',
  jpg: 'image/jpeg',
  json: 'application/json',
  pdf: 'application/pdf',
};

const bad = (description: string) => ({
  status: 400,
  json: { ok: false, error_code: 400, description: `Bad Request: ${description}` },
});

/**
 * sendPhoto, sendDocument and editMessageCaption, which telegram-test-api lacks, answered as the Bot
 * API does: photos by URL (JSON) or upload (multipart/form-data), documents by upload; the message
 * goes into the emulator's storage (so its message_id follows the emulator's and buttons on it can
 * be pressed and edited) with `photo` (PhotoSize[]) or `document`, `caption` and `reply_markup`.
 * A photo URL the predicate calls unfetchable gets Telegram's 400. editMessageText on a photo
 * message gets Telegram's "there is no text in the message to edit".
 */
function createMediaEmulator(server: TelegramServer, token: string) {
  const files: SentFile[] = [];
  let unfetchable = (url: string) => url.includes('unreachable');
  let unfetchableText = 'wrong file identifier/HTTP URL specified';
  let fileSeq = 0;
  const stored = () => server.storage.botMessages as unknown as Stored[];
  const find = (chatId: unknown, messageId: unknown) =>
    stored().find(
      (s) =>
        String(s.messageId) === String(messageId) && String(s.message.chat_id) === String(chatId),
    );
  const isMedia = (s: Stored | undefined) => !!s && (!!s.message.photo || !!s.message.document);
  const markupOf = (v: unknown) =>
    (typeof v === 'string' ? JSON.parse(v) : v) as
      { inline_keyboard?: { text: string; callback_data?: string; url?: string }[][] } | undefined;
  const fileIds = new Set<string>();
  const nextFile = (kind: string) => {
    const n = ++fileSeq;
    const id = `${kind}-${n}-${token.split(':')[0]}`;
    fileIds.add(id);
    return { file_id: id, file_unique_id: `u${kind}${n}` };
  };

  function parse(buf: Buffer, type: string | undefined) {
    if (type?.includes('multipart/form-data')) {
      const { fields, files: up } = parseMultipart(buf, type);
      const attach = (v: string | undefined) =>
        v?.startsWith('attach://') ? up[v.slice('attach://'.length)] : undefined;
      return {
        fields: fields as Fields,
        upload: attach(fields.photo ?? fields.document) ?? up.photo ?? up.document,
      };
    }
    return { fields: parseBody(buf.toString('utf8'), type), upload: undefined };
  }

  function send(method: 'sendPhoto' | 'sendDocument', fields: Fields, upload?: Upload) {
    const field = method === 'sendPhoto' ? 'photo' : 'document';
    if (fields.chat_id === undefined || fields.chat_id === '') return bad('chat_id is empty');
    const given = typeof fields[field] === 'string' ? (fields[field] as string) : undefined;
    if (!upload && !given) return bad(`there is no ${field} in the request`);
    const url = !upload && given && /^https?:\/\//i.test(given) ? given : undefined;
    if (!upload && !url && !fileIds.has(given!)) return bad(unfetchableText);
    if (url && unfetchable(url)) return bad(unfetchableText);
    const caption = fields.caption === undefined ? undefined : String(fields.caption);
    const plain =
      caption && fields.parse_mode === 'HTML' ? visibleLength(caption) : caption?.length;
    if ((plain ?? 0) > 1024) return bad('message caption is too long');
    let media: Fields;
    if (method === 'sendPhoto') {
      const size = (upload && pngSize(upload.bytes)) || { width: 1280, height: 720 };
      const full = { ...nextFile('photo'), ...size, file_size: upload?.bytes.length ?? 65_536 };
      const k = 90 / Math.max(size.width, size.height);
      const thumb = {
        ...nextFile('photo'),
        width: Math.round(size.width * k),
        height: Math.round(size.height * k),
        file_size: 1_024,
      };
      media = { photo: [thumb, full] };
    } else {
      const name = upload?.filename ?? 'file';
      media = {
        document: {
          ...nextFile('document'),
          file_name: name,
          mime_type: MIME[name.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream',
          file_size: upload?.bytes.length ?? 0,
        },
      };
    }
    const rp = (
      typeof fields.reply_parameters === 'string'
        ? JSON.parse(fields.reply_parameters)
        : fields.reply_parameters
    ) as { message_id?: number } | undefined;
    const replyTo = Number(rp?.message_id ?? fields.reply_to_message_id) || undefined;
    const { text: _t, photo: _p, document: _d, reply_parameters: _r, ...rest } = fields;
    const msg = server.addBotMessage({ ...rest, ...media } as never, token) as unknown as Fields;
    const markup = markupOf(fields.reply_markup);
    const original = replyTo ? find(fields.chat_id, replyTo) : undefined;
    files.push({
      method,
      chatId: Number(fields.chat_id),
      messageId: Number(msg.message_id),
      ...(url ? { url } : {}),
      ...(upload ? { bytes: upload.bytes, filename: upload.filename } : {}),
      ...(caption !== undefined ? { caption } : {}),
      ...(fields.parse_mode ? { parseMode: String(fields.parse_mode) } : {}),
      ...(fields.message_thread_id !== undefined
        ? { threadId: Number(fields.message_thread_id) }
        : {}),
      ...(replyTo ? { replyTo } : {}),
      buttons: (markup?.inline_keyboard ?? []).map((row) =>
        row.map((b) => ({ text: b.text, data: b.callback_data, url: b.url })),
      ),
    });
    const { text: _x, chat_id: _c, parse_mode: _pm, ...message } = msg;
    return {
      status: 200,
      json: {
        ok: true,
        result: {
          ...message,
          date: Math.floor(Number(msg.date) / 1000),
          from: {
            id: Number(token.split(':')[0]),
            is_bot: true,
            first_name: 'Test',
            username: 'TestNameBot',
          },
          chat: {
            id: Number(fields.chat_id),
            type: Number(fields.chat_id) < 0 ? 'supergroup' : 'private',
          },
          ...(original
            ? {
                reply_to_message: {
                  message_id: original.messageId,
                  chat: { id: Number(fields.chat_id) },
                },
              }
            : {}),
        },
      },
    };
  }

  function editCaption(fields: Fields) {
    const s = find(fields.chat_id, fields.message_id);
    if (!s) return bad('message to edit not found');
    if (!isMedia(s)) return bad('there is no caption in the message to edit');
    const caption = fields.caption === undefined ? undefined : String(fields.caption);
    const plain =
      caption && fields.parse_mode === 'HTML' ? visibleLength(caption) : caption?.length;
    if ((plain ?? 0) > 1024) return bad('message caption is too long');
    const markup = markupOf(fields.reply_markup);
    const keyboard = JSON.stringify(markup?.inline_keyboard ?? []);
    const before = JSON.stringify(markupOf(s.message.reply_markup)?.inline_keyboard ?? []);
    if (s.message.caption === caption && keyboard === before)
      return bad(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    s.message = {
      ...s.message,
      caption,
      parse_mode: fields.parse_mode,
      reply_markup: markup ?? { inline_keyboard: [] },
    };
    const { text: _x, chat_id: _c, parse_mode: _pm, ...message } = s.message;
    return {
      status: 200,
      json: {
        ok: true,
        result: {
          ...message,
          message_id: s.messageId,
          chat: { id: Number(fields.chat_id) },
          edit_date: Math.floor(Date.now() / 1000),
        },
      },
    };
  }

  return {
    files,
    setUnfetchable(pred: (url: string) => boolean, description?: string) {
      unfetchable = pred;
      if (description) unfetchableText = description.replace(/^Bad Request: /, '');
    },
    /** Whether the proxy answers this call itself (rather than forwarding it to the emulator). */
    handles(method: string, body: Fields): boolean {
      if (method === 'sendPhoto' || method === 'sendDocument' || method === 'editMessageCaption')
        return true;
      return method === 'editMessageText' && isMedia(find(body.chat_id, body.message_id));
    },
    answer(method: string, buf: Buffer, type: string | undefined) {
      const { fields, upload } = parse(buf, type);
      const r =
        method === 'editMessageCaption'
          ? editCaption(fields)
          : method === 'editMessageText'
            ? bad('there is no text in the message to edit')
            : send(method as 'sendPhoto' | 'sendDocument', fields, upload);
      return r;
    },
  };
}
