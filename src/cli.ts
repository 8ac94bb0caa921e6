#!/usr/bin/env node
/**
 * The `opsbot` command: `run` (the bot), `check`, `routes test`, `oncall`, `alert`, `schema`.
 * Bad usage prints one line and exits 64; a config with errors exits 78; colour only on a terminal.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EX_CONFIG } from './errors.js';
import { SEVERITIES } from './domain/severity.js';
import {
  CliFailure,
  EX_USAGE,
  UsageError,
  configPath,
  painter,
  parseLabelArgs,
  parseTimeArg,
  requireConfig,
  withRedis,
} from './cli/common.js';
// each command's module is imported when that command runs: `opsbot run` (the bot) loads none of
// the check/routes/oncall/alert/schema code and what only it needs

const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

const configOption = () =>
  new Option('-c, --config <file>', 'the config file (default: $OPSBOT_CONFIG or ./opsbot.yaml)');

function buildProgram(): Command {
  const program = new Command('opsbot')
    .description('Telegram ChatOps bot for on-call teams, and the tools to check its config')
    .usage('<command> [options]')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'opsbot: ')) })
    .action((_opts, cmd: Command) => {
      const [first] = cmd.args;
      throw new UsageError(
        first
          ? `unknown command "${first}" (see opsbot --help)`
          : 'missing command (see opsbot --help)',
      );
    });

  program
    .command('run')
    .description('run the bot (what `npm start` and the Docker image do)')
    .action(async () => {
      const { runBot } = await import('./main.js');
      await runBot();
    });

  program
    .command('check')
    .description('validate the config and every runbook offline; exit 78 when anything is wrong')
    .addOption(configOption())
    .action(async (o: { config?: string }) => {
      const { checkConfigFile, formatFinding } = await import('./cli/check.js');
      const file = configPath(o.config);
      const res = checkConfigFile(file);
      const paintErr = painter(process.stderr);
      for (const e of res.errors) err(paintErr('red', formatFinding(e)));
      for (const w of res.warnings)
        err(paintErr('yellow', formatFinding({ ...w, message: `warning: ${w.message}` })));
      if (res.errors.length) {
        const n = res.errors.length;
        err(paintErr('bold', `${n} error${n === 1 ? '' : 's'}`));
        process.exitCode = EX_CONFIG;
        return;
      }
      const paint = painter(process.stdout);
      out(paint('green', `${file}: valid`));
      for (const line of res.summary) out(line);
    });

  const routes = program
    .command('routes')
    .description('route tools')
    .usage('test [options] <label=value...>')
    .action((_o, cmd: Command) => {
      throw new UsageError(
        cmd.args[0]
          ? `unknown command "routes ${cmd.args[0]}" (see opsbot routes --help)`
          : 'missing command: opsbot routes test label=value ...',
      );
    });
  routes
    .command('test')
    .description('show where an alert with these labels would go, who it pages, what holds it back')
    .argument('<label=value...>', 'the alert labels')
    .addOption(configOption())
    .option(
      '--severity <raw>',
      'the severity the alert itself carries (critical, warning, P1, ...)',
    )
    .option('--at <time>', 'pretend the alert arrives at this time (ISO, or +2h / -30m)', 'now')
    .option('--redis', 'also read overrides, silences and maintenance from Redis (REDIS_URL)')
    .action(
      async (
        args: string[],
        o: { config?: string; severity?: string; at: string; redis?: boolean },
      ) => {
        const { routeTest } = await import('./cli/routes.js');
        const labels = parseLabelArgs(args);
        const now = parseTimeArg(o.at, Date.now());
        const config = requireConfig(configPath(o.config));
        const base = { labels, now, ...(o.severity !== undefined ? { severity: o.severity } : {}) };
        const lines = o.redis
          ? await withRedis(async ({ redis, keys }) => {
              const { readRuntimeOverrides } = await import('./store/overrides.js');
              const { createSuppressions } = await import('./incidents/silences.js');
              const { createSuppressionRecords } = await import('./store/suppressions.js');
              const clock = { now: () => now };
              const overrides = Object.fromEntries(
                await Promise.all(
                  Object.keys(config.schedules).map(
                    async (s) => [s, await readRuntimeOverrides(redis, keys, s, now)] as const,
                  ),
                ),
              );
              const active = (kind: 'silences' | 'maintenance') =>
                createSuppressions({
                  records: createSuppressionRecords({ redis, keys }, kind),
                  clock,
                });
              const silence = await active('silences').matching(labels);
              const maintenance = await active('maintenance').matching(labels);
              return routeTest(config, {
                ...base,
                overrides,
                suppressedBy: { silence, maintenance },
              });
            })
          : routeTest(config, base);
        for (const line of lines) out(line);
      },
    );

  program
    .command('oncall')
    .description('who is on call, per schedule')
    .addOption(configOption())
    .option('--at <time>', 'at this time instead of now (ISO, or +2h / -30m)', 'now')
    .option('--schedule <name>', 'only this schedule')
    .option('--json', 'print JSON for scripts')
    .option('--redis', 'include overrides and covers stored in Redis (REDIS_URL)')
    .action(
      async (o: {
        config?: string;
        at: string;
        schedule?: string;
        json?: boolean;
        redis?: boolean;
      }) => {
        const { onCallJson, onCallLines, onCallRows } = await import('./cli/oncall.js');
        const now = Date.now();
        const at = parseTimeArg(o.at, now);
        const config = requireConfig(configPath(o.config));
        const all = Object.keys(config.schedules);
        if (o.schedule !== undefined && !Object.hasOwn(config.schedules, o.schedule))
          throw new UsageError(
            `--schedule: unknown schedule "${o.schedule}" (known: ${all.join(', ') || 'none'})`,
          );
        const names = o.schedule !== undefined ? [o.schedule] : all;
        const overrides = o.redis
          ? await withRedis(async ({ redis, keys }) => {
              const { readRuntimeOverrides } = await import('./store/overrides.js');
              const since = Math.min(at, now);
              return Object.fromEntries(
                await Promise.all(
                  names.map(async (s) => [s, await readRuntimeOverrides(redis, keys, s, since)]),
                ),
              ) as Record<string, Awaited<ReturnType<typeof readRuntimeOverrides>>>;
            })
          : {};
        const rows = onCallRows(config, at, names, overrides);
        if (o.json) out(JSON.stringify(onCallJson(at, rows), null, 2));
        else for (const line of onCallLines(at, rows)) out(line);
      },
    );

  program
    .command('alert')
    .description('send a test alert to a running opsbot through its generic intake')
    .argument('<title>', 'the alert title')
    .argument('[label=value...]', 'alert labels')
    .addOption(
      new Option('--url <url>', 'base URL of the running opsbot, e.g. http://127.0.0.1:8080')
        .env('OPSBOT_URL')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--token <token>', 'token of a `generic` integration')
        .env('OPSBOT_ALERT_TOKEN')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--severity <severity>', 'the alert severity').choices([
        ...SEVERITIES,
        'critical',
        'error',
        'high',
        'warning',
        'info',
      ]),
    )
    .option('--resolve', 'send it as resolved (same title and labels resolve the incident)')
    .option('--dedup-key <key>', 'dedup key (default: from the title and labels)')
    .option('--description <text>', 'a description')
    .action(
      async (
        title: string,
        args: string[],
        o: {
          url: string;
          token: string;
          severity?: string;
          resolve?: boolean;
          dedupKey?: string;
          description?: string;
        },
      ) => {
        const labels = parseLabelArgs(args);
        if (!/^https?:\/\//.test(o.url))
          throw new UsageError(`--url: expected http(s)://host:port, got "${o.url}"`);
        const { sendTestAlert } = await import('./cli/alert.js');
        const ids = await sendTestAlert({ ...o, title, labels });
        for (const id of ids) out(id);
      },
    );

  program
    .command('schema')
    .description('write the JSON Schemas of opsbot.yaml and of runbooks, for editors')
    .argument('[file]', 'where the config schema goes ("-": stdout)', 'opsbot.schema.json')
    .option(
      '--runbook [file]',
      'write only the runbook schema (default runbook.schema.json; "-": stdout)',
    )
    .action(async (file: string, o: { runbook?: string | true }) => {
      const { configJsonSchema, runbookJsonSchema } = await import('./cli/schema.js');
      const write = (target: string, text: string) => {
        if (target === '-') return void process.stdout.write(text);
        writeFileSync(target, text);
        out(`wrote ${target}`);
      };
      if (o.runbook !== undefined) {
        write(o.runbook === true ? 'runbook.schema.json' : o.runbook, runbookJsonSchema());
        return;
      }
      write(file, configJsonSchema());
      // the default run refreshes both files the repository commits
      if (file === 'opsbot.schema.json') write('runbook.schema.json', runbookJsonSchema());
    });

  // set last, so the subcommands (which copy settings when created) still refuse stray arguments
  program.allowExcessArguments(true);
  routes.allowExcessArguments(true);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version print and succeed; everything else commander already said in one line
      process.exitCode = e.exitCode === 0 ? 0 : EX_USAGE;
      return;
    }
    if (e instanceof UsageError) {
      err(`opsbot: ${e.message}`);
      process.exitCode = EX_USAGE;
      return;
    }
    if (e instanceof CliFailure) {
      err(`opsbot: ${e.message}`);
      process.exitCode = e.exitCode;
      return;
    }
    err(`opsbot: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  }
}

void main(process.argv);
