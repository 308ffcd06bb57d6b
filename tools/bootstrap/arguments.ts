import { parseArgs } from 'node:util';
import { CreateAccountBody } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { createValidationPipe } from '#libs/platform/index.js';
import { BadInput } from '../command-line.js';

/** The command's options: each fills one field of the sign-up body (`POST /v1/accounts`). */
export const BOOTSTRAP_OPTIONS = {
  name: { field: 'name', what: "the account's name" },
  slug: { field: 'slug', what: "the account's slug: lower-case letters, digits and dashes, unique" },
  email: { field: 'owner.email', what: "the owner's e-mail, their login" },
  'first-name': { field: 'owner.firstName', what: "the owner's first name" },
  'last-name': { field: 'owner.lastName', what: "the owner's last name" },
  phone: { field: 'owner.phone', what: "the owner's phone, international format (+447700900123)" },
  locale: { field: 'locale', what: "optional: the language of the account's mails, a tag such as en (the default), fr, fr-CA" },
} as const;

type OptionName = keyof typeof BOOTSTRAP_OPTIONS;
const OPTION_NAMES = Object.keys(BOOTSTRAP_OPTIONS) as OptionName[];
/** The options that may be left out. */
const OPTIONAL: ReadonlySet<OptionName> = new Set(['locale']);

/** What the command line asks for: the usage, or an account to create. */
export type BootstrapRequest = { help: true } | { help: false; body: CreateAccountBody };

/** How to call the command. */
export const BOOTSTRAP_USAGE = [
  'Usage: node dist/tools/bootstrap.js --name <name> --slug <slug> --email <e-mail> --first-name <name> --last-name <name> --phone <+E.164> [--locale <tag>]',
  '       (npm run bootstrap -- <the same options>)',
  '',
  'Creates an account and its owner as open sign-up does (POST /v1/accounts), whether SIGNUP_ENABLED is on or off,',
  "with identity's environment (DATABASE_URL, PUBLIC_WEB_URL, ACTIVATION_TOKEN_TTL_HOURS...). Prints the owner's activation link.",
  '',
  ...OPTION_NAMES.map((name) => `  --${name.padEnd(11)} ${BOOTSTRAP_OPTIONS[name].what}`),
  '',
  'Exit status: 0 created, 2 bad input, 3 slug already taken (nothing created), 78 bad environment, 1 any other failure.',
].join('\n');

/**
 * Reads the command line into a sign-up body, validated by the very rules of `POST /v1/accounts`
 * (the validation pipe of the gateway and of identity). Throws {@link BadInput}.
 */
export async function parseBootstrapArguments(argv: string[]): Promise<BootstrapRequest> {
  const values = readOptions(argv);
  if (values.help) return { help: true };
  const missing = OPTION_NAMES.filter((name) => !OPTIONAL.has(name) && values[name] === undefined);
  if (missing.length > 0)
    throw new BadInput(missing.map((name) => `--${name} is required (${BOOTSTRAP_OPTIONS[name].field}: ${BOOTSTRAP_OPTIONS[name].what})`));
  const body = {
    name: values.name,
    slug: values.slug,
    owner: { firstName: values['first-name'], lastName: values['last-name'], email: values.email, phone: values.phone },
    ...(values.locale !== undefined && { locale: values.locale }),
  };
  return { help: false, body: await validated(body) };
}

function readOptions(argv: string[]): Partial<Record<OptionName, string>> & { help?: boolean } {
  const options = Object.fromEntries(OPTION_NAMES.map((name) => [name, { type: 'string' as const }]));
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs says what is wrong with the command line itself (an unknown option, a value missing).
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw new BadInput([(error as Error).message]);
    throw error;
  }
}

async function validated(body: unknown): Promise<CreateAccountBody> {
  try {
    return (await createValidationPipe().transform(body, { type: 'body', metatype: CreateAccountBody })) as CreateAccountBody;
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== ErrorCode.ValidationFailed) throw error;
    const { problems = [error.message] } = (error.details ?? {}) as { problems?: string[] };
    throw new BadInput(problems.map(withOption));
  }
}

/** A validation problem ("owner.phone must be ...") with the option that carries its field. */
export function withOption(problem: string): string {
  const name = OPTION_NAMES.find((option) => isAbout(problem, BOOTSTRAP_OPTIONS[option].field));
  return name ? `${problem} (--${name})` : problem;
}

/** Whether a problem worded by describeValidationErrors is about `field` ("field x ...", "x must ...", "x: ..."). */
function isAbout(problem: string, field: string): boolean {
  const text = problem.startsWith('field ') ? problem.slice('field '.length) : problem;
  return text.startsWith(`${field} `) || text.startsWith(`${field}:`);
}
