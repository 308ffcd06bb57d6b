import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { webLink, type CreateAccountBody } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { loadConfig, natsAuthOptions, optional, SystemClock, type NatsLink } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { createAccountWithOwner, type CreatedAccount } from '../../apps/identity/src/accounts/account-creation.js';
import { AuditService } from '../../apps/identity/src/audit/audit.service.js';
import { ActionTokensService } from '../../apps/identity/src/credentials/action-tokens.service.js';
import { Transactions } from '../../apps/identity/src/database/unit-of-work.js';
import { identityEnv, type IdentityConfig } from '../../apps/identity/src/identity.config.js';
import { identityDatabase } from '../../apps/identity/src/identity.database.js';
import { OutboxWriter } from '#libs/outbox/index.js';
import { GateBroadcaster } from '../../apps/identity/src/sessions/gate-broadcaster.js';
import { CommonExit, describeFailure, runOperatorCommand, type CommandOutput, type OperatorCommand } from '../command-line.js';
import { BOOTSTRAP_USAGE, parseBootstrapArguments, type BootstrapRequest } from './arguments.js';

/** The command's exit statuses. */
export const BootstrapExit = { ...CommonExit, SlugTaken: 3 } as const;

/**
 * The bootstrap command: creates an account and its owner as open sign-up does, whatever
 * SIGNUP_ENABLED says, and prints the ids and the owner's activation link. Returns the exit status;
 * whatever it did not foresee is one line on `err` and status 1, never a stack trace.
 */
export function runBootstrapCommand(argv: string[], env: NodeJS.ProcessEnv, output: CommandOutput): Promise<number> {
  return runOperatorCommand(bootstrapCommand, argv, env, output);
}

const bootstrapCommand: OperatorCommand<BootstrapRequest, IdentityConfig> = {
  name: 'bootstrap',
  usage: BOOTSTRAP_USAGE,
  nothingDone: 'nothing was created',
  parse: parseBootstrapArguments,
  configure: (env) => loadConfig(identityEnv, env),
  run: (request, config, output) => create(config, request.body, output),
};

async function create(config: IdentityConfig, body: CreateAccountBody, output: CommandOutput): Promise<number> {
  const broadcasts = new HeldBroadcasts();
  let created: CreatedAccount;
  try {
    created = await createInDatabase(config, body, broadcasts);
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.Conflict) {
      output.err(`bootstrap: slug: ${error.message} (--slug "${body.slug}"); nothing was created.`);
      return BootstrapExit.SlugTaken;
    }
    output.err(`bootstrap failed, nothing was created: ${describeFailure(error)}`);
    return BootstrapExit.Failed;
  }
  report(config, created, output);
  await broadcasts.send(config, output);
  return BootstrapExit.Ok;
}

/** Identity's services on a connection of the command's own, for the one transaction of {@link createAccountWithOwner}. */
async function createInDatabase(config: IdentityConfig, body: CreateAccountBody, broadcasts: HeldBroadcasts): Promise<CreatedAccount> {
  const dataSource = new DataSource(dataSourceOptions({ ...identityDatabase(config), poolSize: 2, applicationName: 'portico-bootstrap' }));
  await dataSource.initialize();
  try {
    const clock = new SystemClock();
    const outbox = new OutboxWriter();
    return await createAccountWithOwner(
      {
        transactions: new Transactions(dataSource),
        tokens: new ActionTokensService(clock, config, outbox),
        outbox,
        audit: new AuditService(dataSource),
        broadcaster: new GateBroadcaster(broadcasts.link, pino({ level: 'silent' })),
      },
      body,
      'operator',
    );
  } finally {
    // Once committed, the account exists: failing to close the pool must not report otherwise.
    await dataSource.destroy().catch(() => undefined);
  }
}

function report(config: IdentityConfig, { account, owner, activation }: CreatedAccount, output: CommandOutput): void {
  output.out(`Created account "${account.name}".`);
  output.out(`  account id:    ${account.id}`);
  output.out(`  slug:          ${account.slug}`);
  output.out(`  owner user id: ${owner.id}`);
  if (!activation) {
    output.out(`${owner.email} already has a login: they sign in with their own password, no activation link.`);
    output.out('Their "added to account" mail was queued.');
    return;
  }
  // The link the activation mail carries (notifications builds it the same way, from the same PUBLIC_WEB_URL).
  output.out(`Activation link for ${owner.email}, valid until ${activation.expiresAt.toISOString()}.`);
  output.out('It is secret: whoever holds it sets the password of this owner. Give it to them only.');
  output.out(`  ${webLink(config.PUBLIC_WEB_URL, '/activate', activation.token)}`);
  output.out('The activation mail was queued too: notifications sends it once identity has relayed the event.');
}

/**
 * What identity would broadcast to the gateways (an owner's inactive memberships elsewhere), held
 * until the account is committed and then sent over NATS. Most runs have nothing to send, so the
 * command needs NATS only then, and a pod that can reach only PostgreSQL still creates accounts.
 */
class HeldBroadcasts {
  private readonly messages: Array<{ subject: string; payload: string }> = [];

  /** The only part of a NATS link GateBroadcaster uses: a publish, here kept for later. */
  readonly link = { connection: { publish: (subject: string, payload: string) => void this.messages.push({ subject, payload }) } } as unknown as NatsLink;

  async send(config: IdentityConfig, output: CommandOutput): Promise<void> {
    if (this.messages.length === 0) return;
    try {
      const connection = await connect({
        servers: config.NATS_URL.split(','),
        ...natsAuthOptions({ user: optional(config.NATS_USER), password: optional(config.NATS_PASSWORD), credsFile: optional(config.NATS_CREDS_FILE) }),
        name: 'portico-bootstrap',
        timeout: 5000,
        maxReconnectAttempts: 0,
      });
      for (const { subject, payload } of this.messages) connection.publish(subject, payload);
      await connection.drain();
    } catch (error) {
      output.err(
        `bootstrap: warning: the gateways could not be told (NATS: ${describeFailure(error)}) that this owner stays barred from the ` +
          'accounts where they are inactive. Restart the gateways, which load it at start.',
      );
    }
  }
}
