import type { Incident } from '../../src/domain/incident.js';

/** A stored incident with plain defaults (a triggered P2 in one chat), for unit tests. */
export function makeIncident(over: Partial<Incident> = {}): Incident {
  const t = over.createdAt ?? Date.parse('2026-01-05T09:00:00Z');
  return {
    id: 'INC-1',
    seq: 1,
    state: 'triggered',
    severity: 'P2',
    title: 'API error rate above 5%',
    description: '',
    source: 'alertmanager',
    integration: 'prometheus',
    dedup: 'g1',
    chats: ['-100'],
    labels: {},
    links: [],
    createdAt: t,
    updatedAt: t,
    startedAt: t,
    alertCount: 1,
    firingCount: 1,
    level: 0,
    loop: 0,
    paged: [],
    silenced: false,
    breached: false,
    ...over,
  };
}
