/**
 * The layer rules of docs/architecture.md, checked by `npm run lint` (dependency-cruiser).
 * Type-only imports count: a cycle through types is still a cycle in the design.
 *
 *   main/app/cli → http/, bot/ (edges) → telegram/ (views, Bot API) → domain modules → store/ → kernel
 */
const DOMAIN = '^src/(intake|incidents|escalation|runbooks|reports|scheduler|alertmanager)/';
const EDGES = '^src/(bot|http|cli)/|^src/(app|main|cli)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles (type-only imports included) make layers meaningless.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-not-edges',
      comment:
        'Domain modules speak incidents: they import no bot, http, telegram view or app code.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: [EDGES, '^src/telegram/'] },
    },
    {
      name: 'domain-no-redis-or-telegram',
      comment: 'Only store/ speaks Redis and only telegram/ and bot/ speak the Bot API.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: ['node_modules/(ioredis|grammy|@grammyjs)/'] },
    },
    {
      name: 'store-below-domain',
      comment: 'store/ serves the domain: it imports only the kernel (and its own files).',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: [DOMAIN, EDGES, '^src/telegram/'] },
    },
    {
      name: 'telegram-below-edges',
      comment: 'Views are used by the bot and the outbox; they never import the bot or http.',
      severity: 'error',
      from: { path: '^src/telegram/' },
      to: { path: [EDGES] },
    },
    {
      name: 'kernel-imports-nothing-above',
      comment: 'The shared kernel (domain types, clock, duration, errors) depends on no layer.',
      severity: 'error',
      from: { path: '^src/(domain/|clock\\.ts|duration\\.ts|errors\\.ts|own\\.ts|timezone\\.ts)' },
      to: { path: [DOMAIN, EDGES, '^src/(telegram|store|notify)/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
