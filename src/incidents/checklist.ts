/** The post-emergency checklist (by locale key), in three phases. */
export const CHECKLIST: { phase: string; items: string[] }[] = [
  {
    phase: 'ck-phase-immediate',
    items: ['ck-services', 'ck-health', 'ck-logs', 'ck-resources', 'ck-tiers'],
  },
  {
    phase: 'ck-phase-short',
    items: ['ck-stable', 'ck-baselines', 'ck-cascade', 'ck-alerts', 'ck-stakeholders'],
  },
  {
    phase: 'ck-phase-followup',
    items: ['ck-rca', 'ck-postmortem', 'ck-docs', 'ck-preventive', 'ck-process'],
  },
];
export const CHECKLIST_ITEMS = CHECKLIST.flatMap((p) => p.items);

/** Severities whose resolution posts the checklist. */
export const CHECKLIST_SEVERITIES = new Set(['P0', 'P1']);
