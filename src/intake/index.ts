// TEMPORARY STUB (lead): replaced by the intake parsers.
import type { Alert } from './types.js';
const todo = (): never => {
  throw new Error('parser not implemented yet');
};
export const parseAlertmanager = (_b: unknown, _i: string): Alert[] => todo();
export const parseGrafana = (_b: unknown, _i: string): Alert[] => todo();
export const parseGeneric = (_b: unknown, _i: string): Alert[] => todo();
export const parseEventsV2 = (_b: unknown): { routingKey: string; alert: Alert; dedupKey: string } => todo();
