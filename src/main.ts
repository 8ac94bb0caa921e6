import { buildApp } from './app.js';
import { configWarnings, loadConfigFile, loadEnv } from './config.js';
import { ConfigError, EX_CONFIG } from './errors.js';
import { createLogger } from './logger.js';

/** Entry point: config errors exit 78 with one readable line; SIGTERM/SIGINT stop within 10 s. */
async function main() {
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

void main();
