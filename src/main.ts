import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { configWarnings, loadConfigFile, loadEnv } from './config.js';
import { ConfigError, EX_CONFIG } from './errors.js';
import { createLogger } from './logger.js';

/**
 * Runs the bot (`opsbot run`, which `npm start` calls): config errors exit 78 with one readable
 * line; SIGTERM/SIGINT stop within 10 s.
 */
export async function runBot(): Promise<void> {
  let app;
  try {
    const env = loadEnv(process.env);
    const config = loadConfigFile(env.configPath, process.env);
    const logger = createLogger(env.logLevel);
    for (const warning of configWarnings(config)) logger.warn({ warning }, 'config warning');
    app = buildApp({ config, env, logger });
    const stop = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 9500);
      force.unref();
      try {
        await app!.stop();
      } finally {
        process.exit(0);
      }
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    await app.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`opsbot: config error: ${e.message}\n`);
      process.exit(EX_CONFIG);
    }
    process.stderr.write(`opsbot: failed to start: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  }
}

/** True when this file is the process entry (`node dist/src/main.js`, the form before `opsbot run`). */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) void runBot();
