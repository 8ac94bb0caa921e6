export { parseAlertmanager } from './alertmanager.js';
export { parseGrafana } from './grafana.js';
export { parseGeneric } from './generic.js';
export { parseEventsV2 } from './events-v2.js';
