import { terminal } from './command-line.js';
import { runOutboxCommand } from './outbox/command.js';

/** Lists, re-drives or discards the events a service's outbox set aside (docs/deploy.md, section 9). */
process.exitCode = await runOutboxCommand(process.argv.slice(2), process.env, terminal);
