import { z } from 'zod';
import {
  annotationsSchema,
  clean,
  hashLabels,
  httpUrlSchema,
  labelsSchema,
  links,
  parseWith,
  title,
} from './common.js';
import type { Alert } from '../domain/alert.js';

const one = z.object({
  title: z.string().max(65536).transform(title).pipe(z.string().min(1, 'title must not be empty')),
  severity: z.string().max(32).optional(),
  dedup_key: z.string().min(1).max(255).optional(),
  status: z.enum(['firing', 'resolved']),
  labels: labelsSchema.optional().default({}),
  annotations: annotationsSchema.optional().default({}),
  description: z.string().max(65536).optional(),
  link: z.string().max(2048).optional(),
  image_url: httpUrlSchema('image_url').optional(),
});

const many = z.array(one).max(500);

/** The generic JSON format: one alert or an array; dedup by dedup_key (or title+labels). */
export function parseGeneric(body: unknown, integration: string): Alert[] {
  const list = Array.isArray(body)
    ? parseWith(many, body, 'generic')
    : [parseWith(one, body, 'generic')];
  return list.map((a) => {
    const key = a.dedup_key ? clean(a.dedup_key) : hashLabels(a.labels, a.title);
    return {
      source: 'generic',
      integration,
      dedupKey: `generic:${key}`,
      fingerprint: `generic:${key}`,
      status: a.status,
      title: a.title,
      description: a.description ? clean(a.description).slice(0, 4096) : undefined,
      severity: a.severity,
      labels: a.labels,
      annotations: a.annotations,
      links: links([a.link ? { href: a.link, text: 'link' } : undefined]),
      imageUrl: a.image_url,
    } satisfies Alert;
  });
}
