import { randomBytes } from 'node:crypto';
import { Api } from 'grammy';
import type { Redis } from 'ioredis';
import { createAmSilences } from './alertmanager/silences.js';
import { createAuditLog } from './audit.js';
import { createAuditStore } from './store/audit.js';
import { createBot } from './bot/bot.js';
import { createUpdateDispatcher } from './bot/updates.js';
import { createPressReads } from './bot/press-reads.js';
import { systemClock, type Clock } from './clock.js';
import { interpolatedVars, type EnvSettings, type OpsbotConfig } from './config.js';
import { createEscalation } from './escalation/engine.js';
import { createTradeView } from './telegram/views/trades.js';
import { createShiftTrades } from './escalation/trades.js';
import { buildHttp } from './http/server.js';
import { createI18n } from './i18n.js';
import { createIncidentActions } from './incidents/actions.js';
import { createHistory } from './incidents/history.js';
import { createIncidentRepository } from './store/incidents.js';
import { createSuppressions } from './incidents/silences.js';
import { migrateDedupKeys } from './intake/dedup.js';
import { createHeartbeats } from './intake/heartbeat.js';
import { createIntake } from './intake/service.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createOutbox } from './telegram/outbox.js';
import { createDmSubscriptions } from './store/subscriptions.js';
import { loadRunbooks } from './runbooks/loader.js';
import { createRunbookService } from './runbooks/service.js';
import { createApprovalStore } from './store/approvals.js';
import { createLockStore } from './store/locks.js';
import { createRunStore } from './store/runs.js';
import { createRunbookMessages } from './telegram/views/runbooks.js';
import { createOutboxStore } from './store/outbox.js';
import { createWarRoomStore } from './store/warrooms.js';
import { createTradeStore } from './store/trades.js';
import { createSender } from './telegram/sender.js';
import { createWarRooms } from './telegram/warroom.js';
import type { Services } from './services.js';
import { createKeys } from './store/keys.js';
import { clusterPrefix, createRedis, createRedisCluster, redisHealthy } from './store/redis.js';
import { createScripts } from './store/scripts.js';
import { createChecklistStore } from './store/checklists.js';
import { createDraftStore } from './store/drafts.js';
import { createLocaleStore } from './store/locales.js';
import { createOverrideStore } from './store/overrides.js';
import { createRateLimits } from './store/rate-limits.js';
import { createUpdateClaims } from './store/update-claims.js';
import { createAmSilenceStore } from './store/am-silences.js';
import { createDedupMigrationStore } from './store/dedup-migration.js';
import { createHeartbeatStore } from './store/heartbeats.js';
import { createHistoryStore } from './store/history.js';
import { createSuppressionRecords, loadSuppressionSnapshot } from './store/suppressions.js';
import { createTelegramProbe } from './telegram/health.js';
import { retryUntilDone } from './retry.js';
import { readVersion } from './version.js';
import { createTimerService } from './scheduler/timers.js';
import { createSchedulerStore } from './store/scheduler.js';

export interface AppOptions {
  config: OpsbotConfig;
  env: Pick<EnvSettings, 'botToken' | 'apiRoot' | 'redisUrl' | 'redisPrefix'> &
    Partial<EnvSettings>;
  clock?: Clock;
  logger?: Logger;
  redis?: Redis;
  instanceId?: string;
  /** Default metrics include process collectors; tests turn them off. */
  defaultMetrics?: boolean;
  /** Progress edit throttle for runbook runs. */
  progressIntervalMs?: number;
  /** Outbox/timer poll interval ceiling. */
  pollMs?: number;
}

/** Where people reach the HTTP server: `public_url`, else the origin of WEBHOOK_URL. */
export function publicBaseUrl(publicUrl?: string, webhookUrl?: string): string | undefined {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  if (webhookUrl && URL.canParse(webhookUrl)) return new URL(webhookUrl).origin;
  return undefined;
}

/** The composition root: builds every part from config and env; `start()` and `stop()` run it. */
export function buildApp(opts: AppOptions) {
  const { config, env } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(env.logLevel ?? 'info');
  const cluster = !!env.redisClusterNodes?.length;
  const redis =
    opts.redis ??
    (cluster
      ? createRedisCluster(env.redisClusterNodes!, logger, {
          ...(env.redisPassword ? { password: env.redisPassword } : {}),
        })
      : createRedis(env.redisUrl, logger));
  const keys = createKeys(cluster ? clusterPrefix(env.redisPrefix) : env.redisPrefix);
  const scripts = createScripts(redis, keys);
  const metrics = createMetrics({ defaults: opts.defaultMetrics });
  const { t } = createI18n();
  // sends give up well inside the outbox lease, so a hung call is retried by this worker, not raced by another
  const api = new Api(env.botToken, {
    apiRoot: env.apiRoot,
    timeoutSeconds: Math.max(1, Math.floor((config.outbox.lease * 2) / 3 / 1000)),
  });
  const instanceId = opts.instanceId ?? randomBytes(6).toString('hex');
  // no runbook may pass a variable the config interpolates; its value never shows in step output
  const configVars = interpolatedVars(config);
  const runbookMap = loadRunbooks(config.runbooks_dir, { reservedEnv: new Set(configVars.keys()) });
  const stepSecrets = [
    ...configVars.values(),
    env.botToken,
    ...Object.values(config.integrations).map((i) => i.token),
    ...(config.api_token ? [config.api_token] : []),
    ...(env.webhookSecret ? [env.webhookSecret] : []),
    ...(env.redisPassword ? [env.redisPassword] : []),
    ...(config.calendar_token ? [config.calendar_token] : []),
  ];

  const locales = createLocaleStore({ redis, keys, defaultLocale: config.locale });
  const { localeOf, setLocale } = locales;
  const telegramHealthy = createTelegramProbe(api);
  async function health() {
    const [redisOk, telegram] = await Promise.all([redisHealthy(redis), telegramHealthy()]);
    return { redis: redisOk, telegram };
  }

  const onIngestCall = (n: number) => metrics.intakeGroups.observe(n);
  const repo = createIncidentRepository({ redis, keys, scripts, clock, onIngestCall });
  const silences = createSuppressions({
    records: createSuppressionRecords({ redis, keys }, 'silences'),
    clock,
  });
  const maintenance = createSuppressions({
    records: createSuppressionRecords({ redis, keys }, 'maintenance'),
    clock,
  });
  const timers = createTimerService({
    store: createSchedulerStore({ scripts, keys, redis }),
    clock,
    logger,
    metrics,
  });
  const overrides = createOverrideStore({ scripts, keys, redis });
  const warRoomStore = createWarRoomStore({ redis, keys });
  const escalation = createEscalation({
    scripts,
    keys,
    clock,
    config,
    repo,
    timers,
    overrides,
    silences,
    maintenance,
    logger,
    metrics,
  });
  const amSilences = createAmSilences({
    store: createAmSilenceStore({ redis, keys }),
    clock,
    config,
    repo,
    timers,
    logger,
    t,
    localeOf,
  });
  const actions = createIncidentActions({
    repo,
    keys,
    clock,
    escalation,
    onAck: (id, actor, meta) => amSilences.ackEffects(id, actor, meta),
    onRelease: (id) => amSilences.released(id),
  });
  const outbox = createOutbox({
    store: createOutboxStore({
      redis,
      keys,
      scripts,
      clock,
      limits: config.outbox,
      leaseMs: config.outbox.lease,
    }),
    sender: createSender({ api, metrics }),
    warRooms: createWarRooms({
      store: warRoomStore,
      api,
      repo,
      clock,
      t,
      logger,
    }),
    repo,
    clock,
    t,
    localeOf,
    logger,
    metrics,
  });
  const dms = createDmSubscriptions({ redis, keys, clock, config });
  const intake = createIntake({
    config,
    repo,
    escalation,
    loadSuppressions: () => loadSuppressionSnapshot(redis, keys),
    clock,
    metrics,
    onResolved: (id) => amSilences.released(id),
    onStored: () => {
      outbox.notify();
      timers.notify();
    },
  });
  const audit = createAuditLog({ store: createAuditStore({ redis, keys }), clock });
  const runbooks = createRunbookService({
    approvals: createApprovalStore({ redis, keys, scripts }),
    runs: createRunStore({ redis, keys }),
    locks: createLockStore({ redis, keys, scripts }),
    clock,
    config,
    runbooks: runbookMap,
    repo,
    audit,
    timers,
    messages: createRunbookMessages(t),
    localeOf,
    logger,
    metrics,
    instanceId,
    progressIntervalMs: opts.progressIntervalMs,
    secrets: stepSecrets,
  });
  const heartbeats = createHeartbeats({
    store: createHeartbeatStore({ redis, keys }),
    clock,
    config,
    repo,
    intake,
    timers,
  });
  const history = createHistory({
    store: createHistoryStore({ redis, keys, scripts }),
    clock,
    logger,
    retentionMs: config.retention.resolved,
  });

  const services: Services = {
    config,
    redis,
    keys,
    scripts,
    clock,
    logger,
    metrics,
    t,
    localeOf,
    setLocale,
    api,
    repo,
    actions,
    pressReads: createPressReads(repo),
    escalation,
    timers,
    outbox,
    intake,
    silences,
    maintenance,
    dms,
    runbooks,
    audit,
    amSilences,
    version: readVersion(),
    startedAt: clock.now(),
    health,
    trades: createShiftTrades({
      store: createTradeStore(redis, keys, scripts),
      overrides,
      clock,
      config,
      repo,
      timers,
      audit,
      t,
      localeOf,
      logger,
      view: createTradeView({ config, t }),
    }),
    publicUrl: publicBaseUrl(config.public_url, env.webhookUrl),
    checklists: createChecklistStore({ redis, keys }),
    drafts: createDraftStore({ redis, keys }),
    overrides,
    rateLimits: createRateLimits({ redis, clock, keys, scripts }),
    warRooms: warRoomStore,
  };
  const bot = createBot(services, { token: env.botToken, apiRoot: env.apiRoot });
  const dispatcher = createUpdateDispatcher({
    bot,
    claims: createUpdateClaims({ redis, keys }),
    logger,
    readAhead: services.pressReads.start,
  });
  const http = buildHttp({
    services,
    heartbeats,
    webhookSecret: env.webhookSecret,
    onUpdate: async (u, reply) => {
      await ensureInit();
      await dispatcher.dispatch(u, reply);
    },
  });

  let initDone: Promise<void> | undefined;
  function ensureInit(): Promise<void> {
    initDone ??= retryUntilDone(() => bot.init(), {
      onFirstFailure: (e) => logger.warn({ err: e }, 'Bot API not reachable yet; retrying'),
    });
    return initDone;
  }

  let started = false;
  return {
    services,
    bot,
    http,
    dispatcher,
    heartbeats,
    history,
    instanceId,
    /** Starts HTTP, workers and update intake (polling unless WEBHOOK_URL is set). */
    async start(startOpts: { listen?: boolean; polling?: boolean } = {}) {
      started = true;
      try {
        // before intake opens: legacy dedup keys must be per integration first (intake/dedup.ts)
        await migrateDedupKeys({ store: createDedupMigrationStore({ redis, keys }), logger });
      } catch (e) {
        logger.warn({ err: e }, 'dedup key migration deferred: Redis not ready');
      }
      try {
        // data stored by an older version gets its counters and indexes before anything reads them
        await history.migrate();
      } catch (e) {
        logger.warn({ err: e }, 'start-up migration deferred: Redis not ready');
      }
      if (startOpts.listen !== false)
        await http.listen({ host: env.httpHost ?? '0.0.0.0', port: env.httpPort ?? 8080 });
      outbox.start();
      timers.start(opts.pollMs);
      runbooks.start();
      history.start();
      try {
        await runbooks.recoverInterrupted();
        await heartbeats.armAll();
      } catch (e) {
        logger.warn({ err: e }, 'start-up recovery deferred: Redis not ready');
      }
      await Promise.race([ensureInit(), new Promise((r) => setTimeout(r, 3000))]);
      if (env.webhookUrl) {
        void ensureInit().then(() =>
          bot.api
            .setWebhook(
              env.webhookUrl!,
              env.webhookSecret ? { secret_token: env.webhookSecret } : {},
            )
            .catch((err: unknown) => logger.error({ err }, 'setWebhook failed')),
        );
      } else if (startOpts.polling !== false) {
        void ensureInit().then(() => dispatcher.startPolling());
      }
      logger.info({ instance: instanceId, webhook: !!env.webhookUrl }, 'opsbot started');
    },
    /** Stops taking updates and HTTP, finishes in-flight work, closes Redis. */
    async stop() {
      if (!started) {
        redis.disconnect();
        return;
      }
      started = false;
      await dispatcher.stop();
      await http.close();
      await runbooks.stop();
      await timers.stop();
      await escalation.drainWebhooks();
      await amSilences.drain();
      await outbox.stop();
      await history.stop();
      if (!opts.redis) {
        try {
          await redis.quit();
        } catch {
          redis.disconnect();
        }
      }
      logger.info('opsbot stopped');
    },
  };
}

export type App = ReturnType<typeof buildApp>;
