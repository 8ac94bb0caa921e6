import type { Api } from 'grammy';
import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import type { OpsbotConfig } from './config.js';
import type { Escalation } from './escalation/engine.js';
import type { TimerService } from './scheduler/timers.js';
import type { Locale, Translate } from './i18n.js';
import type { IncidentActions } from './incidents/actions.js';
import type { IncidentRepository } from './store/incidents.js';
import type { SuppressionStore } from './incidents/silences.js';
import type { Intake } from './intake/service.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Outbox } from './telegram/outbox.js';
import type { DmSubscriptions } from './store/subscriptions.js';
import type { RunbookService } from './runbooks/service.js';
import type { Keys } from './store/keys.js';
import type { Scripts } from './store/scripts.js';
import type { AuditLog } from './audit.js';
import type { AmSilences } from './alertmanager/silences.js';
import type { ShiftTrades } from './escalation/trades.js';
import type { ChecklistStore } from './store/checklists.js';
import type { DraftStore } from './store/drafts.js';
import type { OverrideStore } from './store/overrides.js';
import type { RateLimits } from './store/rate-limits.js';
import type { WarRoomStore } from './store/warrooms.js';
import type { PressReads } from './bot/press-reads.js';

/** Everything features need, built once in app.ts and handed down (no module singletons). */
export interface Services {
  config: OpsbotConfig;
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  t: Translate;
  localeOf(chatId: number): Promise<Locale>;
  setLocale(chatId: number, locale: Locale): Promise<void>;
  api: Api;
  repo: IncidentRepository;
  actions: IncidentActions;
  /** Incident reads started with a button press's claim, for its handler (bot/press-reads.ts). */
  pressReads: PressReads;
  escalation: Escalation;
  timers: TimerService;
  outbox: Outbox;
  intake: Intake;
  silences: SuppressionStore;
  maintenance: SuppressionStore;
  /** Private-chat notification settings (/start, /notify). */
  dms: DmSubscriptions;
  runbooks: RunbookService;
  audit: AuditLog;
  /** Two-way Alertmanager silences (integrations with `api_url`). */
  amSilences: AmSilences;
  version: string;
  startedAt: number;
  /** Redis and Bot API reachability, for /status and /readyz. */
  health(): Promise<{ redis: boolean; telegram: boolean }>;
  /** /cover and /swap requests. */
  trades: ShiftTrades;
  /** Public base URL of the HTTP server (`public_url`, else WEBHOOK_URL's origin), for feed links. */
  publicUrl?: string;
  /** Incident response checklists (the card's checklist buttons). */
  checklists: ChecklistStore;
  /** Unfinished /declare conversations and /update texts. */
  drafts: DraftStore;
  /** Runtime on-call overrides (/override). */
  overrides: OverrideStore;
  /** Rate limits shared by replicas (the per-person command limit; intake's windows). */
  rateLimits: RateLimits;
  /** Which incident owns a war-room topic (messages written there go to its timeline). */
  warRooms: Pick<WarRoomStore, 'topicOwner'>;
}
