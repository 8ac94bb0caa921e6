import http from 'node:http';
import net from 'node:net';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';

/** One call the bot made to the Bot API, seen by the recording proxy. */
export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
}

export interface BotMessage {
  messageId: number;
  chatId: number;
  text: string;
  threadId?: number;
  parseMode?: string;
  buttons: { text: string; data?: string; url?: string }[][];
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
  /** Forum topics the bot created, by chat id (createForumTopic and friends, answered by the proxy). */
  topics: Map<number, ForumTopicState[]>;
  /**
   * How a chat answers topic calls: by default a group (negative id) is a forum where the bot may
   * manage topics; `forum: false` answers "the chat is not a forum", `rights: false` "not enough rights".
   */
  setForum(chatId: number, o: { forum?: boolean; rights?: boolean }): void;
  reset(): void;
  stop(): Promise<void>;
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
  const topics = new Map<number, ForumTopicState[]>();
  const forums = new Map<number, { forum: boolean; rights: boolean }>();
  let threadSeq = 50_000;
  const held: http.ServerResponse[] = [];

  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const method = (req.url ?? '').split('?')[0]!.split('/').pop() ?? '';
      const body = parseBody(raw, req.headers['content-type']);
      const record = (status: number) => calls.push({ method, body, at: Date.now(), status });
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
          headers: {
            ...req.headers,
            host: `127.0.0.1:${port}`,
            'content-length': Buffer.byteLength(raw),
          },
        },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            record(up.statusCode ?? 0);
            res.writeHead(up.statusCode ?? 502, {
              'content-type': up.headers['content-type'] ?? 'application/json',
            });
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
            text: orig?.text.replace(/<[^>]+>/g, '') ?? '',
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
      await server.stop();
    },
  };
}
