/**
 * The deployment's configuration: the YAML schema (config/schema.ts), loading and validation with
 * `${NAME}` interpolation (config/load.ts) and the process settings from the environment
 * (config/env.ts). Importers use this module.
 */
export { ROLES, roleAtLeast, SERVICE_ACCOUNTS, type Role } from './domain/people.js';
export {
  MIN_SECRET,
  NOTIFIER_VARS,
  configSchema,
  type OpsbotConfig,
  type ChatConfig,
  type PersonConfig,
  type ScheduleConfig,
  type PolicyConfig,
  type RouteConfig,
  type IntegrationConfig,
  type NotifierConfig,
  type WarRoomConfig,
} from './config/schema.js';
export {
  formatPath,
  zodIssues,
  issuesOf,
  interpolateEnv,
  validateConfig,
  parseConfig,
  loadConfigFile,
  interpolatedVars,
  configWarnings,
  type ConfigIssue,
} from './config/load.js';
export { loadEnv, type EnvSettings } from './config/env.js';
