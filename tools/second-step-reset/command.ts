import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxWriter } from '#libs/outbox/index.js';
import { loadConfig, SystemClock } from '#libs/platform/index.js';
import { AuditService } from '../../apps/identity/src/audit/audit.service.js';
import { identityEnv, type IdentityConfig } from '../../apps/identity/src/identity.config.js';
import { resetSecondStep } from '../../apps/identity/src/mfa/second-step-changes.js';
import { CommonExit, runOperatorCommand, withIdentityDatabase, type CommandOutput, type OperatorCommand } from '../command-line.js';
import { parseSecondStepResetArguments, SECOND_STEP_RESET_USAGE, type SecondStepResetRequest, type SecondStepResetTarget } from './arguments.js';

/** The command's exit statuses. */
export const SecondStepResetExit = { ...CommonExit, NotFound: 3, AlreadyOff: 4 } as const;

/**
 * The operator turns off the second step of a login whose owner lost both the authenticator and
 * the recovery codes (no account admin may do it for a person: docs/identity.md). In one
 * transaction, as identity does it for an admin: see {@link resetSecondStep}, the operator the
 * audit's actor (none), the reason in its details. Returns the exit status; never a stack trace.
 */
export function runSecondStepResetCommand(argv: string[], env: NodeJS.ProcessEnv, output: CommandOutput): Promise<number> {
  return runOperatorCommand(secondStepResetCommand, argv, env, output);
}

const secondStepResetCommand: OperatorCommand<SecondStepResetRequest, IdentityConfig> = {
  name: 'second-step-reset',
  usage: SECOND_STEP_RESET_USAGE,
  nothingDone: 'nothing was changed',
  parse: parseSecondStepResetArguments,
  configure: (env) => loadConfig(identityEnv, env),
  run: (request, config, output) => reset(config, request.target, request.reason, output),
};

async function reset(config: IdentityConfig, target: SecondStepResetTarget, reason: string, output: CommandOutput): Promise<number> {
  try {
    const principal = await withIdentityDatabase(config, 'portico-second-step-reset', (dataSource) => {
      const clock = new SystemClock();
      const deps = { audit: new AuditService(dataSource), outbox: new OutboxWriter(), clock };
      return dataSource.transaction(async (manager) => {
        const found = await findLogin(manager, target);
        if (!found) return null;
        await resetSecondStep(deps, manager, { actor: null, target: found, change: 'reset-by-operator', ip: null, details: { by: 'operator', reason } });
        return found;
      });
    });
    if (!principal) return notFound(target, output);
    output.out(`Two-step sign-in is off for ${describe(target)} (${principal.type} ${principal.id}).`);
    output.out('Its authenticator and recovery codes were removed; audited as mfa.reset; a notice to its e-mail, if it has one, was queued.');
    output.out('It signs in with its password alone until it sets two-step sign-in up again (required where an account requires it).');
    return SecondStepResetExit.Ok;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (error.code === ErrorCode.Conflict) {
      output.err(`second-step-reset: two-step sign-in is already off for ${describe(target)}; nothing was changed.`);
      return SecondStepResetExit.AlreadyOff;
    }
    // Deleted between finding it and locking it.
    if (error.code === ErrorCode.NotFound) return notFound(target, output);
    throw error;
  }
}

/** The login named on the command line: a person by e-mail (any case), a subuser by its account's slug and login. */
async function findLogin(manager: EntityManager, target: SecondStepResetTarget): Promise<Principal | null> {
  const rows =
    'email' in target
      ? await manager.query<Array<{ id: string }>>('SELECT id FROM users WHERE email_lower = lower($1)', [target.email])
      : await manager.query<Array<{ id: string }>>(
          'SELECT s.id FROM subusers s JOIN accounts a ON a.id = s.account_id WHERE a.slug = lower($1) AND s.login = lower($2)',
          [target.account, target.login],
        );
  return rows.length === 0 ? null : { type: 'email' in target ? 'user' : 'subuser', id: rows[0].id };
}

function notFound(target: SecondStepResetTarget, output: CommandOutput): number {
  output.err(`second-step-reset: no login ${describe(target)}; nothing was changed.`);
  return SecondStepResetExit.NotFound;
}

function describe(target: SecondStepResetTarget): string {
  return 'email' in target ? target.email : `${target.account}/${target.login}`;
}
