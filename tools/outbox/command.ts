import type { DataSource } from 'typeorm';
import { databaseEnv, loadConfig, type ConfigOf } from '#libs/platform/index.js';
import { CommonExit, runOperatorCommand, withDatabase, type CommandOutput, type OperatorCommand } from '../command-line.js';
import { OUTBOX_USAGE, parseOutboxArguments, type OutboxRequest, type OutboxService } from './arguments.js';

/** The command's exit statuses. */
export const OutboxExit = { ...CommonExit, NotFound: 3 } as const;

/** An event set aside, as the list shows it. */
interface SetAsideRow {
  id: string;
  type: string;
  created_at: Date;
  set_aside_at: Date;
  attempts: number;
  last_error: string | null;
}

/**
 * The operator lists the events a service's outbox set aside (JetStream refused them for good),
 * re-drives them (published again by the relay within seconds) or discards them, in one
 * transaction: an --id that is not an event set aside changes nothing. Returns the exit status;
 * never a stack trace.
 */
export function runOutboxCommand(argv: string[], env: NodeJS.ProcessEnv, output: CommandOutput): Promise<number> {
  return runOperatorCommand(outboxCommand, argv, env, output);
}

const outboxCommand: OperatorCommand<OutboxRequest, ConfigOf<typeof databaseEnv>> = {
  name: 'outbox',
  usage: OUTBOX_USAGE,
  nothingDone: 'nothing was changed',
  parse: parseOutboxArguments,
  configure: (env) => loadConfig(databaseEnv, env),
  run: (request, config, output) => {
    // Raw SQL on the service's schema (named as the service): none of its entities or migrations is registered.
    const database = { url: config.DATABASE_URL, schema: request.service, entities: [], migrations: [] };
    return withDatabase(database, 'portico-outbox', (dataSource) => {
      if (request.action === 'list') return list(dataSource, request.service, output);
      return end(dataSource, request, output);
    });
  },
};

async function list(dataSource: DataSource, service: OutboxService, output: CommandOutput): Promise<number> {
  const rows = await dataSource.query<SetAsideRow[]>(
    `SELECT id, type, created_at, set_aside_at, attempts, last_error FROM outbox WHERE set_aside_at IS NOT NULL ORDER BY created_at, id`,
  );
  for (const row of rows)
    output.out(
      `${row.id}  ${row.type}  written ${row.created_at.toISOString()}  set aside ${row.set_aside_at.toISOString()}  ` +
        `refused ${times(row.attempts)}: ${row.last_error ?? '-'}`,
    );
  output.out(rows.length === 0 ? `No event is set aside in ${service}'s outbox.` : `${events(rows.length)} set aside in ${service}'s outbox.`);
  return OutboxExit.Ok;
}

/** Re-drives or discards the events named (or, re-driving, every one set aside), all or none. */
async function end(dataSource: DataSource, request: Extract<OutboxRequest, { action: 'redrive' | 'discard' }>, output: CommandOutput): Promise<number> {
  const named = request.ids === 'all' ? null : request.ids;
  // In a SELECT of its own, so that the driver answers the rows (TypeORM answers [rows, count] for an UPDATE or DELETE).
  const change =
    request.action === 'redrive'
      ? `WITH done AS (UPDATE outbox SET set_aside_at = NULL, attempts = 0, last_error = NULL
                        WHERE set_aside_at IS NOT NULL AND ($1::uuid[] IS NULL OR id = ANY($1)) RETURNING id) SELECT id FROM done`
      : `WITH done AS (DELETE FROM outbox WHERE set_aside_at IS NOT NULL AND id = ANY($1::uuid[]) RETURNING id) SELECT id FROM done`;
  const ended = await dataSource
    .transaction(async (manager) => {
      const done = new Set((await manager.query<Array<{ id: string }>>(change, [named])).map((row) => row.id));
      const notSetAside = (named ?? []).filter((id) => !done.has(id));
      // All or none: an id mistyped, or an event another operator already handled, changes nothing.
      if (notSetAside.length > 0) throw new NotSetAside(notSetAside);
      return done.size;
    })
    .catch((error: unknown) => {
      if (error instanceof NotSetAside) return error;
      throw error;
    });
  // Said once committed.
  if (typeof ended === 'number') {
    output.out(outcome(request, ended));
    return OutboxExit.Ok;
  }
  output.err(
    `outbox: not events set aside in ${request.service}'s outbox (unknown, published, or handled already): ${ended.ids.join(', ')}; nothing was changed.`,
  );
  return OutboxExit.NotFound;
}

function outcome(request: Extract<OutboxRequest, { action: 'redrive' | 'discard' }>, count: number): string {
  if (request.action === 'discard') return `Discarded ${events(count)} of ${request.service}'s outbox for good.`;
  return `Re-drove ${events(count)} of ${request.service}'s outbox: its relay publishes them within seconds, as late events (one refused again is set aside again).`;
}

/** `n events`, or one event. */
function events(n: number): string {
  return n === 1 ? '1 event' : `${n} events`;
}

/** `n times`, or once. */
function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

/** The ids named that were not events set aside (the transaction is rolled back). */
class NotSetAside extends Error {
  constructor(readonly ids: string[]) {
    super(`not set aside: ${ids.join(', ')}`);
  }
}
