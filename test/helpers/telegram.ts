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
  command(text: string, extra?: { replyTo?: number }): Promise<void>;
  say(text: string, extra?: { replyTo?: number }): Promise<void>;
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
  /**
   * Queues a raw update (any kind the emulator cannot make, e.g. `my_chat_member`) for the bot's next
   * `getUpdates` (polling mode); returns its update_id.
   */
  injectUpdate(update: Record<string, unknown>): number;
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
      if (method === 'leaveChat') {
        // the emulator lacks it; Telegram answers True
        record(200);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, result: true }));
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
          const m = client.makeCommand(text, reply(extra?.replyTo) as never);
          await client.sendCommand(m as never);
        },
        async say(text, extra) {
          const m = client.makeMessage(text, {
            ...(reply(extra?.replyTo) as object),
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
