import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Events, type CreateAccountBody } from '#libs/contracts/index.js';
import { conflictOnDuplicate } from '#libs/platform/index.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ActionTokensService, IssuedToken } from '../credentials/action-tokens.service.js';
import type { Transactions } from '../database/unit-of-work.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { findOrAddPerson, queueAddedToAccount, queueInvitation, reassertSuspensions } from '../users/people.js';
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

/** An account just created, its owner, and the owner's activation link token (null when the owner already had a login). */
export interface CreatedAccount {
  account: AccountEntity;
  owner: UserEntity;
  activation: IssuedToken | null;
}

/**
 * Creates the account and its owner in one transaction, with the events access and notifications
 * learn it from (the owner's rights; an activation or "added to account" mail) and the audit row.
 * An owner who already has a login may sign in again through it: the gateways are told again, after
 * the commit, of the accounts they are inactive in. A taken slug is a CONFLICT naming `slug`.
 * Open sign-up and the bootstrap command both go through here; the sign-up switch is the caller's.
 */
export function createAccountWithOwner(deps: AccountCreationDeps, body: CreateAccountBody): Promise<CreatedAccount> {
  return deps.transactions
    .run(async (unit) => {
      const { manager } = unit;
      const locale = body.locale ?? 'en';
      // Locked: a removal forgetting this pending person meanwhile is waited for, and the owner then added anew.
      const { user: owner } = await findOrAddPerson(manager, { ...body.owner, locale }, true);
      const account = await manager.save(AccountEntity, {
        id: randomUUID(),
        name: body.name,
        slug: body.slug,
        ownerUserId: owner.id,
        locale,
        requireSecondStep: false,
      });
      await manager.insert(MembershipEntity, { accountId: account.id, userId: owner.id, active: true });
      await reassertSuspensions(unit, deps.broadcaster, owner.id);
      await deps.outbox.add(manager, Events.AccountCreated, account.id, { accountId: account.id, slug: account.slug, ownerUserId: owner.id });
      const activation = await welcome(deps, manager, account, owner);
      return { account, owner, activation };
    })
    .catch(slugTaken);
}

const slugTaken = conflictOnDuplicate('This slug is already taken', 'slug', /slug/);

/** Audits the creation and queues the owner's mail: an activation link for a new person, "added to account" for someone with a login. */
async function welcome(deps: AccountCreationDeps, manager: EntityManager, account: AccountEntity, owner: UserEntity): Promise<IssuedToken | null> {
  await deps.audit.record(manager, {
    accountIds: [account.id],
    action: 'account.created',
    target: { type: 'user', id: owner.id },
    details: { slug: account.slug },
  });
  if (owner.status === 'active') {
    await queueAddedToAccount(manager, deps.outbox, account, owner);
    return null;
  }
  return queueInvitation(manager, deps, account, owner);
}
