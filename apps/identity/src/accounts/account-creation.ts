import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Events, type CreateAccountBody } from '#libs/contracts/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ActionTokensService, IssuedToken } from '../credentials/action-tokens.service.js';
import type { Transactions } from '../database/unit-of-work.js';
import type { TypedPerson } from '../users/invitations.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { awaitConsent, findOrAddPerson, queueAddedToAccount, queueInvitation, reassertSuspensions } from '../users/people.js';
import type { UserEntity } from '../users/user.entity.js';
import { AccountEntity } from './account.entity.js';

/** What creating an account writes with: identity's own services (open sign-up's, or the bootstrap command's). */
export interface AccountCreationDeps {
  transactions: Transactions;
  tokens: ActionTokensService;
  outbox: OutboxWriter;
  audit: AuditService;
  broadcaster: GateBroadcaster;
}

/** An account just created, its owner, and the token of the link mailed to the owner: activation, or invitation while the account waits for them (null: the owner, who had a login, was added at once). */
export interface CreatedAccount {
  account: AccountEntity;
  owner: UserEntity;
  activation: IssuedToken | null;
  /** Whether the owner, someone Portico knew already, is yet to accept the account (open sign-up): see {@link createAccountWithOwner}. */
  waitsForOwner: boolean;
}

/** Who asks for the account: anyone (open sign-up), or the installation's operator (the bootstrap command). */
export type AccountRequester = 'anyone' | 'operator';

/**
 * Creates the account and its owner in one transaction, with the events access and notifications
 * learn it from (the owner's rights; an activation or "added to account" mail) and the audit row.
 * The gateways are told again, after the commit, of the accounts the owner is inactive in (someone
 * who already has a login may sign in through this one: at once, made by the operator; once they accept, by anyone). A taken slug is a CONFLICT naming `slug`.
 * Open sign-up and the bootstrap command both go through here; the sign-up switch is the caller's.
 *
 * Asked by anyone (open sign-up), an account for someone Portico knows already (a login, or a
 * person another account invited) waits for their consent, as an account's invitation does: the
 * owner's membership is inactive and holds what the sign-up typed, and they are mailed an
 * invitation link (an activation link of this account to someone who has set no password yet). Until
 * they accept, nobody can act in the account; should they decline, it is closed
 * (InvitationsService). Otherwise anyone could make anyone the owner of an account they never
 * wanted and cannot leave, which also counts as "works in other accounts" for their real ones.
 */
export function createAccountWithOwner(
  deps: AccountCreationDeps,
  body: CreateAccountBody,
  requester: AccountRequester,
  ip: string | null = null,
): Promise<CreatedAccount> {
  return deps.transactions
    .run(async (unit) => {
      const { manager } = unit;
      const locale = body.locale ?? 'en';
      // Locked: a removal forgetting this pending person meanwhile is waited for, and the owner then added anew.
      const { user: owner, addedNow } = await findOrAddPerson(manager, { ...body.owner, locale }, true);
      const account = await manager.save(AccountEntity, {
        id: randomUUID(),
        name: body.name,
        slug: body.slug,
        ownerUserId: owner.id,
        locale,
        requireSecondStep: false,
      });
      const waitsForOwner = !addedNow && requester === 'anyone';
      await manager.insert(MembershipEntity, { accountId: account.id, userId: owner.id, active: !waitsForOwner });
      await deps.outbox.add(manager, Events.AccountCreated, account.id, { accountId: account.id, slug: account.slug, ownerUserId: owner.id });
      await auditCreation(deps, manager, account, owner, ip);
      const activation = waitsForOwner ? await awaitConsent(manager, deps, account, owner, typedOwner(body)) : await welcome(deps, manager, account, owner);
      await reassertSuspensions(unit, deps.broadcaster, owner.id);
      return { account, owner, activation, waitsForOwner };
    })
    .catch(slugTaken);
}

const slugTaken = conflictOnDuplicate('This slug is already taken', 'slug', /slug/);

/** Queues the owner's mail: an activation link for a new person, "added to account" for someone with a login. */
async function welcome(deps: AccountCreationDeps, manager: EntityManager, account: AccountEntity, owner: UserEntity): Promise<IssuedToken | null> {
  if (owner.status === 'active') {
    await queueAddedToAccount(manager, deps.outbox, account, owner);
    return null;
  }
  return queueInvitation(manager, deps, account, owner);
}

/** The owner as the sign-up typed them, and nothing else of the body. */
function typedOwner({ owner: { email, firstName, lastName, phone } }: CreateAccountBody): TypedPerson {
  return { email, firstName, lastName, phone };
}

/** The creation's audit row: from the address that signed up (none for the operator's command, or an unknown one). */
function auditCreation(deps: AccountCreationDeps, manager: EntityManager, account: AccountEntity, owner: UserEntity, ip: string | null): Promise<void> {
  return deps.audit.record(manager, {
    accountIds: [account.id],
    action: 'account.created',
    target: { type: 'user', id: owner.id },
    ip,
    details: { slug: account.slug },
  });
}
