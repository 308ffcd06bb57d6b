import { DataSource, QueryFailedError } from 'typeorm';
import { ConfigError } from '#libs/platform/index.js';
import { dataSourceOptions, type ServiceDatabase } from '#libs/platform/storage.js';
import type { IdentityConfig } from '../apps/identity/src/identity.config.js';
import { identityDatabase } from '../apps/identity/src/identity.database.js';

/** What the operator commands share: where they write, how they fail, how they reach identity's database. */

/** Where a command writes: results to `out`, problems to `err` (one line each). */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/** The terminal: stdout and stderr. */
export const terminal: CommandOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Input a command refuses: one line per problem, each naming its option. */
export class BadInput extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'BadInput';
  }
}

/**
 * The configuration `load` reads from the environment; or, when it is invalid, null once the
 * problem is written on `err` as `<name>: ...` (the command then exits 78).
 */
function configOrReport<C>(name: string, output: CommandOutput, load: () => C): C | null {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`${name}: ${error.message}`);
    return null;
  }
}

/** Writes on `err` every problem of `error` and that `nothing` happened (the command then exits 2). */
function reportBadInput(name: string, nothing: string, error: BadInput, output: CommandOutput): void {
  output.err(`${name}: bad input, ${nothing}:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  output.err('Run with --help for the options.');
}

/** The exit statuses every operator command gives alike; each adds its own between 3 and 77. */
export const CommonExit = { Ok: 0, Failed: 1, BadInput: 2, BadEnvironment: 78 } as const;

/** What a command's arguments ask: its usage, or something to do. */
export type CommandRequest = { help: true } | { help: false };

/** The parts of an operator command, put together by {@link runOperatorCommand}. */
export interface OperatorCommand<Request extends CommandRequest, Config> {
  /** How each line it writes on `err` starts: `outbox`. */
  readonly name: string;
  /** What `--help` prints. */
  readonly usage: string;
  /** What did not happen when its input is refused: `nothing was changed`. */
  readonly nothingDone: string;
  /** What the arguments ask; throws {@link BadInput} naming each problem. */
  parse(argv: string[]): Request | Promise<Request>;
  /** The configuration it reads from the environment; throws ConfigError naming the variable. */
  configure(env: NodeJS.ProcessEnv): Config;
  /** Does what was asked; its exit status. */
  run(request: Exclude<Request, { help: true }>, config: Config, output: CommandOutput): Promise<number>;
}

/**
 * Runs an operator command as every one runs: refused arguments are listed (status 2), `--help`
 * prints the usage (0), a bad environment is named (78), then the command does its work; whatever
 * it did not foresee is one line (1), never a stack trace.
 */
export function runOperatorCommand<Request extends CommandRequest, Config>(
  command: OperatorCommand<Request, Config>,
  argv: string[],
  env: NodeJS.ProcessEnv,
  output: CommandOutput,
): Promise<number> {
  return runCommand(command.name, output, async () => {
    let request: Request;
    try {
      request = await command.parse(argv);
    } catch (error) {
      if (!(error instanceof BadInput)) throw error;
      reportBadInput(command.name, command.nothingDone, error, output);
      return CommonExit.BadInput;
    }
    if (request.help) {
      output.out(command.usage);
      return CommonExit.Ok;
    }
    const config = configOrReport(command.name, output, () => command.configure(env));
    return config === null ? CommonExit.BadEnvironment : command.run(request as Exclude<Request, { help: true }>, config, output);
  });
}

/** Runs `command`; whatever it did not foresee becomes one line on `err` (`<name> failed: ...`) and status 1, never a stack trace. */
async function runCommand(name: string, output: CommandOutput, command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    output.err(`${name} failed: ${describeFailure(error)}`);
    return CommonExit.Failed;
  }
}

/** Runs `work` on a connection of the command's own to identity's database (`applicationName` shows in pg_stat_activity), closed after. */
export function withIdentityDatabase<T>(config: IdentityConfig, applicationName: string, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  return withDatabase(identityDatabase(config), applicationName, work);
}

/** Runs `work` on a connection of the command's own to a service's schema (`applicationName` shows in pg_stat_activity), closed after. */
export async function withDatabase<T>(
  database: Omit<ServiceDatabase, 'poolSize' | 'applicationName'>,
  applicationName: string,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource(dataSourceOptions({ ...database, poolSize: 1, applicationName }));
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    // Once committed, the work is done: failing to close the pool must not report otherwise.
    await dataSource.destroy().catch(() => undefined);
  }
}

/** PostgreSQL errors a database behind its migrations gives: undefined_table, undefined_column. */
const NOT_MIGRATED = new Set(['42P01', '42703']);

/** A one-line reason for an unexpected failure (no stack: this is an operator's terminal). */
export function describeFailure(error: unknown): string {
  if (error instanceof QueryFailedError && NOT_MIGRATED.has((error.driverError as { code?: string }).code ?? '')) {
    return `${error.message}: is the database migrated? (npm run migrate, or the chart's migration Job)`;
  }
  const { message, code } = (error ?? {}) as { message?: string; code?: string };
  return oneLine(message || code || String(error));
}

/** The first line of `text`, so that nothing multi-line (a stack an error message carries) reaches the terminal. */
function oneLine(text: string): string {
  return text.split('\n', 1)[0];
}
