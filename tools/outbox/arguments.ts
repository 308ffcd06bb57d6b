import { parseArgs } from 'node:util';
import { BadInput } from '../command-line.js';

/** The services that keep an outbox (their own schema each). */
export const OUTBOX_SERVICES = ['identity', 'access'] as const;
/** One of {@link OUTBOX_SERVICES}. */
export type OutboxService = (typeof OUTBOX_SERVICES)[number];

/** What the command line asks for: the usage, the list of events set aside, or one of the two ends of some of them. */
export type OutboxRequest =
  | { help: true }
  | { help: false; service: OutboxService; action: 'list' }
  | { help: false; service: OutboxService; action: 'redrive'; ids: string[] | 'all' }
  | { help: false; service: OutboxService; action: 'discard'; ids: string[] };

/** How to call the command. */
export const OUTBOX_USAGE = [
  'Usage: node dist/tools/outbox.js --service <identity|access>                         list the events set aside',
  '       node dist/tools/outbox.js --service <identity|access> --redrive --id <id>...  publish them again',
  '       node dist/tools/outbox.js --service <identity|access> --redrive --all',
  '       node dist/tools/outbox.js --service <identity|access> --discard --id <id>...  give them up for good',
  '       (npm run outbox -- <the same options>)',
  '',
  "The events a service's outbox set aside because JetStream refused them for good (docs/deploy.md, section 9),",
  "with that service's DATABASE_URL. Remove the cause first (the stream's max_msg_size, the service's NATS",
  'permissions, the subjects the stream captures): a re-driven event is published within seconds, as a late one, and',
  'set aside again if it is refused again. A discarded invitation or reset can be sent again from the API.',
  '',
  '  --service   identity or access',
  '  --redrive   publish the events named by --id (repeatable), or every one set aside (--all)',
  '  --discard   delete the events named by --id (repeatable)',
  '',
  'Exit status: 0 done, 2 bad input, 3 an --id that is not an event set aside (nothing changed), 78 bad environment,',
  '1 any other failure.',
].join('\n');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the command line. Throws {@link BadInput}, one problem a line, each naming its option. */
export function parseOutboxArguments(argv: string[]): OutboxRequest {
  const values = readOptions(argv);
  if (values.help) return { help: true };
  const problems: string[] = [];
  const service = OUTBOX_SERVICES.find((name) => name === values.service);
  if (!service) problems.push(`--service is required: ${OUTBOX_SERVICES.join(' or ')}`);
  for (const id of values.id ?? []) if (!UUID.test(id.trim())) problems.push(`--id ${JSON.stringify(id)} is not an event id (a UUID, as the list shows it)`);
  const ids = [...new Set((values.id ?? []).map((id) => id.trim().toLowerCase()))];
  const request = service && requestOf(service, values, ids, problems);
  if (problems.length > 0 || !request) throw new BadInput(problems);
  return request;
}

type Options = { service?: string; id?: string[]; redrive?: boolean; discard?: boolean; all?: boolean; help?: boolean };

function requestOf(service: OutboxService, values: Options, ids: string[], problems: string[]): OutboxRequest | undefined {
  if (values.redrive && values.discard) problems.push('give --redrive or --discard, not both');
  else if (values.redrive) {
    if (values.all && ids.length > 0) problems.push('give --id or --all, not both');
    else if (values.all || ids.length > 0) return { help: false, service, action: 'redrive', ids: values.all ? 'all' : ids };
    else problems.push('--redrive needs --id <event id> (repeatable) or --all');
  } else if (values.discard) {
    if (values.all) problems.push('--discard takes --id only: each event given up is named');
    else if (ids.length > 0) return { help: false, service, action: 'discard', ids };
    else problems.push('--discard needs --id <event id> (repeatable)');
  } else if (values.all || ids.length > 0) problems.push('--id and --all go with --redrive or --discard');
  else return { help: false, service, action: 'list' };
  return undefined;
}

function readOptions(argv: string[]): Options {
  try {
    return parseArgs({
      args: argv,
      options: {
        service: { type: 'string' },
        id: { type: 'string', multiple: true },
        redrive: { type: 'boolean' },
        discard: { type: 'boolean' },
        all: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BadInput([(error as Error).message]);
  }
}
