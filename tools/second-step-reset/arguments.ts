import { parseArgs } from 'node:util';
import { BadInput } from '../command-line.js';

/** Whose second step to turn off: a person by their login e-mail, or a subuser by its account's slug and its login. */
export type SecondStepResetTarget = { email: string } | { account: string; login: string };

/** What the command line asks for: the usage, or a reset. */
export type SecondStepResetRequest = { help: true } | { help: false; target: SecondStepResetTarget; reason: string };

/** The longest reason kept in the audit trail. */
export const MAX_REASON_LENGTH = 500;

/** How to call the command. */
export const SECOND_STEP_RESET_USAGE = [
  'Usage: node dist/tools/second-step-reset.js --email <e-mail> --reason <why>',
  '       node dist/tools/second-step-reset.js --account <slug> --login <login> --reason <why>',
  '       (npm run second-step-reset -- <the same options>)',
  '',
  'Turns off the two-step sign-in of a person (by their login e-mail) or of a subuser (by its account and login) who',
  "lost both their authenticator and their recovery codes, with identity's environment (DATABASE_URL...). Their",
  'authenticator and recovery codes are removed, the change is audited (mfa.reset, by the operator, with the reason) in',
  'every account they work in, and their e-mail is told. Check who is asking first: this weakens their login.',
  '',
  "  --email     the person's login e-mail",
  "  --account   the subuser's account slug (with --login)",
  "  --login     the subuser's login (with --account)",
  `  --reason    why, for the audit trail (a ticket number, say; at most ${MAX_REASON_LENGTH} characters): admins of`,
  '              the accounts it works in read it there, so write nothing private',
  '',
  'Exit status: 0 turned off, 2 bad input, 3 no such login, 4 two-step sign-in already off, 78 bad environment, 1 any other failure.',
].join('\n');

/** Reads the command line. Throws {@link BadInput}, one problem a line, each naming its option. */
export function parseSecondStepResetArguments(argv: string[]): SecondStepResetRequest {
  const values = readOptions(argv);
  if (values.help) return { help: true };
  const problems: string[] = [];
  const target = targetOf(values, problems);
  const reason = values.reason?.trim() ?? '';
  if (reason.length === 0) problems.push('--reason is required: why the second step is turned off, for the audit trail');
  else if (reason.length > MAX_REASON_LENGTH) problems.push(`--reason must be at most ${MAX_REASON_LENGTH} characters`);
  if (problems.length > 0 || !target) throw new BadInput(problems);
  return { help: false, target, reason };
}

type Options = Partial<Record<'email' | 'account' | 'login' | 'reason', string>> & { help?: boolean };

function targetOf(values: Options, problems: string[]): SecondStepResetTarget | undefined {
  const { email, account, login } = values;
  if (email !== undefined && (account !== undefined || login !== undefined)) {
    problems.push('give either --email (a person) or --account and --login (a subuser), not both');
    return undefined;
  }
  if (email !== undefined) {
    if (email.trim()) return { email: email.trim() };
    problems.push('--email must not be empty');
    return undefined;
  }
  if (account === undefined && login === undefined) {
    problems.push('--email (a person) or --account and --login (a subuser) is required');
    return undefined;
  }
  if (!account?.trim() || !login?.trim()) {
    problems.push('a subuser is named by both --account (its account slug) and --login');
    return undefined;
  }
  return { account: account.trim(), login: login.trim() };
}

function readOptions(argv: string[]): Options {
  const options = { email: { type: 'string' }, account: { type: 'string' }, login: { type: 'string' }, reason: { type: 'string' } } as const;
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw new BadInput([(error as Error).message]);
    throw error;
  }
}
