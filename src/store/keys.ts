/**
 * The one key builder: every Redis key opsbot uses is named here, under a configurable prefix.
 * Per-incident keys carry the incident id in a hash tag `{INC-n}` so an incident's keys share a slot.
 */
export function createKeys(prefix: string) {
  const p = prefix;
  return {
    prefix: p,
    // incidents
    seq: () => `${p}inc:seq`,
    incident: (id: string) => `${p}inc:{${id}}`,
    alerts: (id: string) => `${p}inc:{${id}}:alerts`,
    timeline: (id: string) => `${p}inc:{${id}}:tl`,
    messages: (id: string) => `${p}inc:{${id}}:msgs`,
    /** chat -> outbox job id of a first card on its way (until its message id is recorded). */
    pendingCards: (id: string) => `${p}inc:{${id}}:pend`,
    checklist: (id: string) => `${p}inc:{${id}}:checklist`,
    dedup: (key: string) => `${p}dedup:${key}`,
    /** Legacy (schema < 3): zsets of open / all incidents; the start-up migration reads and drops them. */
    open: () => `${p}incs:open`,
    all: () => `${p}incs:all`,
    byChat: (chat: string) => `${p}incs:chat:${chat}`,
    // chats and people
    chatLocale: (chatId: number | string) => `${p}chat:${chatId}:locale`,
    dmSubs: () => `${p}dm:subs`, // hash telegram user id -> P0..P3 | off (private-chat notifications)
    updateSeen: (updateId: number) => `${p}upd:${updateId}`,
    /** @grammyjs/conversations state; the storage key is `<chat id>:<user id>`. */
    conversation: (storageKey: string) => `${p}conv:${storageKey}`,
    updateDraft: (chatId: number, userId: number, seq: number) =>
      `${p}upd-text:${chatId}:${userId}:${seq}`,
    // silences and maintenance
    silences: () => `${p}silences`,
    maintenance: () => `${p}maintenance`,
    overrides: () => `${p}overrides`,
    // outbox
    obSeq: () => `${p}ob:seq`,
    obJob: (id: string) => `${p}ob:job:${id}`,
    obQueue: (chat: string) => `${p}ob:q:${chat}`,
    obCoalesce: (chat: string) => `${p}ob:co:${chat}`,
    obReady: () => `${p}ob:ready`,
    obNext: (chat: string) => `${p}ob:next:${chat}`,
    obWindow: (chat: string) => `${p}ob:win:${chat}`,
    obGlobal: () => `${p}ob:global`,
    obInflight: () => `${p}ob:inflight`,
    obBusy: (chat: string) => `${p}ob:busy:${chat}`,
    /** A chat's outbox lane (common.lua): 0 pages, 1 new P0/P1 cards, 2 new P2/P3 cards, 3 the rest (= obQueue). */
    obLane: (chat: string, lane: number) =>
      lane === 3 ? `${p}ob:q:${chat}` : `${p}ob:l${lane}:${chat}`,
    /** A storm digest's record: chat, message id, incidents (at most the digest size), signature. */
    obDigest: (id: string) => `${p}ob:dg:${id}`,
    // timers (escalation, breaches, reminders, heartbeats, approval expiry)
    timers: () => `${p}tm:due`,
    timerData: (id: string) => `${p}tm:data:${id}`,
    timerInflight: () => `${p}tm:inflight`,
    timerFired: (id: string) => `${p}tm:fired:${id}`,
    // runbooks
    approval: (token: string) => `${p}appr:${token}`,
    run: (runId: string) => `${p}run:${runId}`,
    runOutput: (runId: string) => `${p}run:${runId}:out`,
    runsActive: () => `${p}runs:active`,
    lock: (name: string) => `${p}lock:${name}`,
    audit: () => `${p}audit`,
    // heartbeats
    heartbeat: (name: string) => `${p}hb:${name}`,
    // misc
    rate: (name: string) => `${p}rate:${name}`,
    // Opsgenie-compatible API: alias -> incident id per integration, request id -> result
    opsgenieAlias: (integration: string, alias: string) => `${p}og:alias:${integration}:${alias}`,
    opsgenieRequest: (requestId: string) => `${p}og:req:${requestId}`,
    /** A /silence waiting for its author's Confirm (string, expires). */
    silencePending: (token: string) => `${p}silence:pending:${token}`,
    /** Hash of finished start-up data migrations (field = migration name, value = version). */
    migrations: () => `${p}migrations`,
    /** Zset of the commands one Telegram user was allowed in the sliding minute (rate_slide.lua). */
    commandRate: (userId: number) => `${p}rate:cmd:${userId}`,
    /** The end of the wait whose one polite refusal this user was sent (rate_slide.lua). */
    commandRateWarned: (userId: number) => `${p}rate:cmd:${userId}:warned`,
    // read side (kept by the scripts through common.lua's ix_apply; names mirror it)
    /** zset id -> seq of the incidents in one state: cursor pages. */
    stateIndex: (state: 'triggered' | 'acknowledged' | 'resolved') => `${p}incs:st:${state}`,
    /** zset id -> severity rank * 1e12 + seq of the open incidents, in /incidents order. */
    openBySeverity: () => `${p}incs:opensev`,
    /** zset id -> silenced-until (ms, +inf) of the open incidents that are silenced. */
    silencedIndex: () => `${p}incs:silenced`,
    /** zset id -> resolved_at: retention walks it. */
    resolvedAt: () => `${p}incs:rt`,
    /** Legacy (schema 2): hash open:P0..P3 and st:<state> -> counts; dropped by the migration to 3. */
    counters: () => `${p}cnt`,
    /** Daily aggregates by UTC day number (ms / 86,400,000) of incident creation. */
    aggDay: (day: number) => `${p}agg:d:${day}`,
    aggNoisy: (day: number) => `${p}agg:noisy:${day}`,
    aggResponders: (day: number) => `${p}agg:resp:${day}`,
    aggFloor: () => `${p}agg:floor`,
    incidentTimers: (id: string) => `${p}inc:{${id}}:tm`,
    firing: (id: string) => `${p}inc:{${id}}:firing`,
    /** Data layout version; the start-up migration brings older data to it. */
    schemaVersion: () => `${p}schema`,
    migrationCursor: () => `${p}schema:cursor`,
    // war-room topics: a topic's incident (hash, field inc), the last topic of a dedup key in a chat
    // (hash, field thread: a re-trigger reopens it), and "told this chat topics are unavailable"
    wrTopic: (chatId: number | string, threadId: number | string) =>
      `${p}wr:topic:${chatId}:${threadId}`,
    wrLast: (chat: string, dedup: string) => `${p}wr:last:${chat}:${dedup}`,
    wrFallback: (chat: string) => `${p}wr:fallback:${chat}`,
    /** An Alertmanager silence opsbot made or expires (hash; ref = `<origin>|<integration>`). */
    amSilence: (ref: string) => `${p}amsil:${ref}`,
    /** A /cover or /swap request (hash; trade_decide.lua). */
    trade: (id: string) => `${p}trade:${id}`,
    /** A personal calendar token, by the sha256 hex of the token: the owner's name. */
    calToken: (sha: string) => `${p}cal:tok:${sha}`,
    /** The sha256 of a person's current calendar token (so /calendar revoke finds it). */
    calTokenOf: (person: string) => `${p}cal:of:${person}`,
    /** Bumped by every change to silences, maintenance windows and DM subscriptions (intake's cache). */
    suppressionVersion: () => `${p}sup:ver`,
    /** A run's alive lease (string, instance id, PX): renewed while its instance lives. */
    runAlive: (runId: string) => `${p}run:${runId}:alive`,
    /** One instance's claim to recover a run whose alive lease lapsed (string, PX). */
    runRecover: (runId: string) => `${p}run:${runId}:recover`,
    /** Who makes a timer's outside request now (a webhook delivery; timer_hold.lua), real-time lease. */
    timerSend: (id: string) => `${p}tm:send:${id}`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
