import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  ({ kit, t } = await build());
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A Grafana unified-alerting webhook with one alert, as Grafana sends it with image rendering on. */
function grafana(o: { fp: string; summary: string; description?: string; imageURL?: string }) {
  return {
    receiver: 'opsbot',
    status: 'firing',
    orgId: 1,
    groupKey: `{}:{alertname="${o.fp}"}`,
    groupLabels: { alertname: o.fp },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://grafana.local/',
    version: '1',
    title: `[FIRING:1] ${o.fp}`,
    state: 'alerting',
    message: o.summary,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: o.fp, severity: 'critical', service: 'api' },
        annotations: {
          summary: o.summary,
          ...(o.description ? { description: o.description } : {}),
        },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://grafana.local/alerting/grafana/abc/view',
        fingerprint: o.fp,
        silenceURL: 'http://grafana.local/alerting/silence/new',
        dashboardURL: 'http://grafana.local/d/abc',
        panelURL: 'http://grafana.local/d/abc?viewPanel=2',
        values: { B: 97 },
        valueString: '[ var=B value=97 ]',
        ...(o.imageURL ? { imageURL: o.imageURL } : {}),
      },
    ],
  };
}

async function openGrafana(o: Parameters<typeof grafana>[0]) {
  const r = await post(`${t.url}/hooks/grafana`, grafana(o), TOKENS.grafana);
  expect(r.status).toBe(202);
  const id = (r.body.incidents as string[])[0]!;
  return { id, seq: Number(id.slice(4)) };
}

/** The outbox recorded the chat's message (Telegram accepted it a moment earlier). */
const recorded = (id: string) =>
  kit.waitFor(async () => (await t.app.services.repo.messages(id))[String(GROUP)], {
    label: `message of ${id} recorded`,
  });

const ackButton = (buttons: { text: string; data?: string }[][]) =>
  buttons.flat().find((b) => /^i:ack:/.test(b.data ?? ''));

describe('incident images', () => {
  it('a Grafana alert with imageURL is a photo with the card as caption and buttons; Acknowledge edits the caption', async () => {
    const image = 'https://grafana.example.com/public/img/attachments/panel-1.png';
    const { id, seq } = await openGrafana({
      fp: 'img-caption',
      summary: 'API p99 latency high',
      imageURL: image,
    });
    const photo = await kit.waitFor(
      () => kit.files.find((f) => f.method === 'sendPhoto' && f.caption?.includes(id)),
      { label: 'sendPhoto of the card' },
    );
    expect(photo.chatId).toBe(GROUP);
    expect(photo.url).toBe(image);
    expect(photo.parseMode).toBe('HTML');
    expect(photo.caption).toContain('API p99 latency high');
    expect(photo.caption).toContain('TRIGGERED');
    expect(ackButton(photo.buttons)?.data).toBe(`i:ack:${seq}`);
    expect(kit.okCalls('sendMessage', GROUP, `<code>${id}</code>`)).toHaveLength(0);
    expect((await t.app.services.repo.get(id))?.image).toBe(image);
    expect(Number(await recorded(id))).toBe(photo.messageId);

    await u(PEOPLE.alice).press(photo.messageId, `i:ack:${seq}`);
    const edit = await kit.waitFor(
      () =>
        kit
          .callsOf('editMessageCaption')
          .find((c) => c.status === 200 && String(c.body.caption).includes('Acknowledged by')),
      { label: 'editMessageCaption after acknowledge' },
    );
    expect(Number(edit.body.message_id)).toBe(photo.messageId);
    const shown = kit.botMessages(GROUP).find((m) => m.messageId === photo.messageId)!;
    expect(shown.media).toBe('photo');
    expect(shown.caption).toMatch(/Acknowledged by .*alice/);
    expect(shown.buttons.flat().map((b) => b.data)).toContain(`i:unack:${seq}`);
    expect(
      kit.callsOf('editMessageText').filter((c) => Number(c.body.message_id) === photo.messageId),
    ).toHaveLength(0);

    // a reply to the photo names the incident through its caption
    await u(PEOPLE.alice).command('/note rolled back api 1.42', { replyTo: photo.messageId });
    await kit.waitFor(
      async () =>
        (await t.app.services.repo.timeline(id)).find((e) => e.text === 'rolled back api 1.42'),
      { label: 'note by reply to the photo' },
    );
  });

  it('a card too long for a caption goes out first, the photo follows as a reply; edits go to the card', async () => {
    const image = 'https://grafana.example.com/public/img/attachments/panel-2.png';
    const { id, seq } = await openGrafana({
      fp: 'img-long',
      summary: `Checkout errors ${'x'.repeat(280)}`,
      description: 'The checkout service returns 5xx. '.repeat(30),
      imageURL: image,
    });
    const card = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
      { label: 'the card as text' },
    );
    const photo = await kit.waitFor(
      () => kit.files.find((f) => f.method === 'sendPhoto' && f.replyTo === card.messageId),
      { label: 'the photo as a reply to the card' },
    );
    expect(photo.url).toBe(image);
    expect(photo.caption).toBeUndefined();
    expect(photo.messageId).toBeGreaterThan(card.messageId);
    expect(Number(await recorded(id))).toBe(card.messageId);

    await u(PEOPLE.alice).press(card.messageId, `i:ack:${seq}`);
    await kit.waitForMessage(
      (m) => m.messageId === card.messageId && /Acknowledged by/.test(m.text),
      { label: 'card edited after acknowledge' },
    );
    expect(
      kit
        .callsOf('editMessageCaption')
        .filter((c) => Number(c.body.message_id) === photo.messageId),
    ).toHaveLength(0);
  });

  it('an image Telegram cannot fetch: the card goes out without it, not muted, and later updates still edit it', async () => {
    const image = 'http://grafana.unreachable.internal:3000/render/d-solo/abc?panelId=2';
    const { id, seq } = await openGrafana({
      fp: 'img-unfetchable',
      summary: 'Disk almost full',
      imageURL: image,
    });
    await kit.waitFor(
      () => kit.callsOf('sendPhoto').find((c) => c.body.photo === image && c.status === 400),
      { label: 'sendPhoto refused' },
    );
    const card = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
      { label: 'card without the image' },
    );
    expect(card.text).toContain('Disk almost full');
    expect(kit.files.some((f) => f.url === image)).toBe(false);
    const inc = await t.app.services.repo.get(id);
    expect(inc?.silenced).toBe(false);
    expect(inc?.state).toBe('triggered');
    expect(Number(await recorded(id))).toBe(card.messageId);

    await u(PEOPLE.bob).press(card.messageId, `i:ack:${seq}`);
    await kit.waitForMessage(
      (m) => m.messageId === card.messageId && /Acknowledged by .*bob/.test(m.text),
      { label: 'card edited after acknowledge' },
    );
    await t.app.services.actions.resolve(id, 'bob', 'freed space');
    await kit.waitForMessage((m) => m.messageId === card.messageId && /Resolved/.test(m.text), {
      label: 'card edited after resolve',
    });
    expect(
      kit.callsOf('editMessageCaption').filter((c) => Number(c.body.message_id) === card.messageId),
    ).toHaveLength(0);
  });

  it('generic image_url: an http(s) URL is posted with the card; anything else is a clear 400 and stores nothing', async () => {
    const image = 'https://ci.example.com/artifacts/flaky-tests.png';
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'Nightly build red', status: 'firing', dedup_key: 'nightly-img', image_url: image },
      TOKENS.ci,
    );
    expect(r.status).toBe(202);
    const id = (r.body.incidents as string[])[0]!;
    const photo = await kit.waitFor(
      () => kit.files.find((f) => f.method === 'sendPhoto' && f.caption?.includes(id)),
      { label: 'generic photo' },
    );
    expect(photo.url).toBe(image);
    expect(photo.caption).toContain('Nightly build red');

    const open = await t.app.services.repo.countOpen();
    for (const bad of ['ftp://ci.example.com/x.png', 'javascript:alert(1)', 'not a url', 42]) {
      const b = await post(
        `${t.url}/hooks/generic`,
        {
          title: 'Bad image',
          status: 'firing',
          dedup_key: `bad-img-${String(bad)}`,
          image_url: bad,
        },
        TOKENS.ci,
      );
      expect(b.status).toBe(400);
      const issues = b.body.issues as { path: string; message: string }[];
      expect(issues.some((i) => i.path.includes('image_url'))).toBe(true);
      if (typeof bad === 'string')
        expect(issues.find((i) => i.path.includes('image_url'))?.message).toMatch(/http\(s\) URL/);
    }
    expect(await t.app.services.repo.countOpen()).toBe(open);
  });

  it('Events API v2 images: the first is posted with the card, its href becomes a link; a src that is not http(s) is a clear 400', async () => {
    const image = 'https://monitoring.example.com/graphs/queue-depth.png';
    const r = await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'trigger',
      dedup_key: 'ev2-img',
      payload: { summary: 'Queue depth climbing', source: 'worker-3', severity: 'error' },
      images: [
        { src: image, href: 'https://monitoring.example.com/d/queue', alt: 'queue graph' },
        { src: 'https://monitoring.example.com/graphs/second.png' },
      ],
    });
    expect(r.status).toBe(202);
    const photo = await kit.waitFor(
      () =>
        kit.files.find(
          (f) => f.method === 'sendPhoto' && f.caption?.includes('Queue depth climbing'),
        ),
      { label: 'Events v2 photo' },
    );
    expect(photo.url).toBe(image);
    expect(kit.files.filter((f) => f.url?.includes('second.png'))).toHaveLength(0);
    const inc = (await t.app.services.repo.listOpen()).find(
      (i) => i.title === 'Queue depth climbing',
    )!;
    expect(inc.links).toContainEqual({
      href: 'https://monitoring.example.com/d/queue',
      text: 'queue graph',
    });

    const open = await t.app.services.repo.countOpen();
    const bad = await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'trigger',
      dedup_key: 'ev2-bad-img',
      payload: { summary: 'Bad image', source: 'worker-3', severity: 'error' },
      images: [{ src: 'file:///etc/passwd' }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/images\[\]\.src must be an http\(s\) URL/);
    expect(await t.app.services.repo.countOpen()).toBe(open);
  });
});

describe('/stats and /postmortem files', () => {
  it('/stats in a forum topic sends the chart as a real PNG photo in that topic', async () => {
    const client = kit.server.getClient(kit.token, {
      userId: PEOPLE.viewer,
      chatId: GROUP,
      firstName: 'vic',
      userName: 'vic',
      type: 'supergroup',
      chatTitle: 'ops',
    });
    const cmd = client.makeCommand('/stats 7d', {
      message_thread_id: 5,
      is_topic_message: true,
    } as never);
    await client.sendCommand(cmd as never);
    const chart = await kit.waitFor(
      () => kit.files.find((f) => f.method === 'sendPhoto' && f.filename === 'stats.png'),
      { label: 'stats chart' },
    );
    expect(chart.chatId).toBe(GROUP);
    expect(chart.bytes!.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(chart.bytes!.length).toBeGreaterThan(1000);
    expect(chart.caption).toContain('Response statistics');
    expect(chart.threadId).toBe(5);
  });

  it('/postmortem sends the Markdown draft as a real document with an HTML caption', async () => {
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'pm-document', status: 'firing', severity: 'critical', dedup_key: 'pm-document' },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    await t.app.services.actions.acknowledge(id, 'alice');
    await t.app.services.actions.note(id, 'alice', 'found the bad deploy');
    await t.app.services.actions.resolve(id, 'bob', 'rolled back');
    await u(PEOPLE.alice).command(`/postmortem ${id}`);
    const doc = await kit.waitFor(
      () =>
        kit.files.find((f) => f.method === 'sendDocument' && f.filename === `postmortem-${id}.md`),
      { label: 'postmortem document' },
    );
    expect(doc.chatId).toBe(GROUP);
    const md = doc.bytes!.toString('utf8');
    expect(md).toContain(`# Postmortem: ${id}`);
    expect(md).toContain('found the bad deploy');
    const api = await fetch(`${t.url}/api/v1/incidents/${id}/postmortem`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    expect(md).toBe(await api.text());
    expect(doc.caption).toBe(`📝 Postmortem draft for <code>${id}</code>`);
    expect(doc.parseMode).toBe('HTML');
    const msg = kit.botMessages(GROUP).find((m) => m.messageId === doc.messageId);
    expect(msg?.media).toBe('document');
    // the document replaced the text fallback
    expect(kit.botMessages(GROUP).some((m) => m.text.includes(`# Postmortem: ${id}`))).toBe(false);
  });
});
