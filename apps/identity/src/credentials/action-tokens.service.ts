import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, IsNull, Not, Raw, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { Events, type Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { OutboxWriter } from '#libs/outbox/index.js';
import { ActionTokenEntity, type ActionTokenPurpose } from './action-token.entity.js';
import { hashSecretToken, newSecretToken } from './secret-token.js';
import { supersededBy, tokenLifetimeMs, tokenProblem, UNVOIDABLE_PURPOSES, type LinkScope } from './token-rules.js';

/** The one answer to a link that cannot be used, whatever the reason (unknown, used, superseded, expired, or its person gone): INVALID_TOKEN. */
export function invalidLink(): DomainError {
  return new DomainError(ErrorCode.InvalidToken, 'This link is invalid or has expired; ask for a new one');
}

/** A token just made: the plain value goes into the mail, never into the database. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** Single-use, expiring, hashed link tokens for activation and reset, each bound to one user or subuser. */
@Injectable()
export class ActionTokensService {
  constructor(
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Makes a new token for (principal, purpose, account), voiding the older unused ones it replaces (R4, {@link supersededBy}).
   * An `email-change` token also holds the address it moves the login to (`newEmail`), an
   * `email-undo` token the address it moves it back to. The principal's row is locked first (FOR KEY
   * SHARE, what the new link's foreign key takes anyway), before the older links: the order of
   * every flow on a principal and its links (see {@link consumeLocked}).
   */
  async issue(
    manager: EntityManager,
    owner: Principal,
    accountId: string | null,
    purpose: ActionTokenPurpose,
    newEmail: string | null = null,
  ): Promise<IssuedToken> {
    const now = this.clock.now();
    // Gone meanwhile (a removal or deletion that committed first): NOT_FOUND, not the foreign key's failure.
    if (!(await lockPrincipal(manager, owner, 'FOR KEY SHARE')))
      throw new DomainError(ErrorCode.NotFound, owner.type === 'user' ? 'User not found' : 'Subuser not found');
    const superseded = supersededBy(purpose, accountId);
    if (superseded) await this.voidAll(manager, owner, superseded);
    const token = newSecretToken();
    const expiresAt = new Date(now.getTime() + tokenLifetimeMs(purpose, this.config));
    await manager.insert(ActionTokenEntity, {
      id: randomUUID(),
      tokenHash: hashSecretToken(token),
      purpose,
      ...ownerColumns(owner),
      accountId,
      newEmail,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /**
   * Voids every unused token of `owner` within `scope`, and says so in `identity.links.voided`
   * (same transaction), so that a mail still waiting to carry one of them is not sent. Without a
   * purpose, every purpose but the {@link UNVOIDABLE_PURPOSES}.
   */
  async voidAll(manager: EntityManager, owner: Principal, scope: LinkScope = {}): Promise<void> {
    const where: FindOptionsWhere<ActionTokenEntity> = { ...ownerColumns(owner), usedAt: IsNull(), voidedAt: IsNull() };
    where.purpose = scope.purpose ?? Not(In([...UNVOIDABLE_PURPOSES]));
    if (scope.accountId) where.accountId = scope.accountId;
    if (scope.madeAfterLink)
      where.createdAt = Raw((column) => `${column} > (SELECT created_at FROM action_tokens WHERE id = :madeAfterLink)`, { madeAfterLink: scope.madeAfterLink });
    const voided = await manager
      .createQueryBuilder()
      .update(ActionTokenEntity)
      .set({ voidedAt: this.clock.now() })
      .where(where)
      .returning('token_hash, purpose')
      .execute();
    // Sign-in challenges are never mailed: no mail to hold back.
    const tokenHashes = (voided.raw as Array<{ token_hash: string; purpose: ActionTokenPurpose }>)
      .filter((row) => row.purpose !== 'sign-in')
      .map((row) => row.token_hash);
    if (tokenHashes.length > 0) await this.outbox.add(manager, Events.LinksVoided, scope.accountId ?? null, { tokenHashes });
  }

  /**
   * Voids the unused links of `purpose` of `owner` but the `keep` newest: what bounds the live
   * sign-in challenges of one login (a purpose whose links void no older ones), so that whoever has
   * the password cannot pile them up.
   */
  async keepNewest(manager: EntityManager, owner: Principal, purpose: ActionTokenPurpose, keep: number): Promise<void> {
    const column = owner.type === 'user' ? 'user_id' : 'subuser_id';
    await manager.query(
      `UPDATE action_tokens SET voided_at = $4 WHERE id IN (
         SELECT id FROM action_tokens WHERE ${column} = $1 AND purpose = $2 AND used_at IS NULL AND voided_at IS NULL
          ORDER BY created_at DESC, id OFFSET $3)`,
      [owner.id, purpose, keep, this.clock.now()],
    );
  }

  /**
   * Whom a token would let in, without using it up (nor locking it), or INVALID_TOKEN as
   * {@link consume} would answer: a look before work that should not be done for a bad link.
   * Only {@link consume}, in the transaction that acts on it, decides.
   */
  async peek(manager: EntityManager, token: string, purpose: ActionTokenPurpose): Promise<Principal> {
    return (await this.peekLink(manager, token, purpose)).owner;
  }

  /** {@link peek}, with the account the link is bound to (null: none). */
  async peekLink(manager: EntityManager, token: string, purpose: ActionTokenPurpose): Promise<{ owner: Principal; accountId: string | null }> {
    const row = await manager.findOne(ActionTokenEntity, { where: { tokenHash: hashSecretToken(token), purpose } });
    if (tokenProblem(row, this.clock.now()) !== null || !row) throw invalidLink();
    return { owner: ownerOf(row), accountId: row.accountId };
  }

  /**
   * {@link consume}, with the row of the token's principal (user or subuser) locked first. Every flow
   * that changes a principal and its links takes the locks in this one order (the principal, then
   * links): those that use a link (here), those without one (a password change, asking for an
   * e-mail change), and those that take a principal out (removing a person or a subuser lock it
   * before voiding its links). Two of them for one principal queue instead of deadlocking.
   * FOR NO KEY UPDATE: a link issued for the principal meanwhile (its foreign key takes FOR KEY
   * SHARE) goes on without waiting.
   */
  async consumeLocked(manager: EntityManager, token: string, purpose: ActionTokenPurpose): Promise<ActionTokenEntity & { owner: Principal }> {
    const owner = await this.peek(manager, token, purpose);
    await lockPrincipal(manager, owner, 'FOR NO KEY UPDATE');
    return this.consume(manager, token, purpose);
  }

  /** Uses up a token (locking it), or fails with INVALID_TOKEN whether it is unknown, used, superseded or expired. */
  async consume(manager: EntityManager, token: string, purpose: ActionTokenPurpose): Promise<ActionTokenEntity & { owner: Principal }> {
    const row = await manager.findOne(ActionTokenEntity, { where: { tokenHash: hashSecretToken(token), purpose }, lock: { mode: 'pessimistic_write' } });
    const now = this.clock.now();
    if (tokenProblem(row, now) !== null || !row) throw invalidLink();
    await manager.update(ActionTokenEntity, { id: row.id }, { usedAt: now });
    return Object.assign(row, { owner: ownerOf(row) });
  }
}

function ownerOf(row: ActionTokenEntity): Principal {
  return row.subuserId ? { type: 'subuser', id: row.subuserId } : { type: 'user', id: row.userId! };
}

function ownerColumns(owner: Principal): { userId: string } | { subuserId: string } {
  return owner.type === 'user' ? { userId: owner.id } : { subuserId: owner.id };
}

/** Locks a principal's row (users or subusers) in `mode`, for the lock order {@link ActionTokensService.consumeLocked} describes; false when there is no such row. */
export async function lockPrincipal(
  manager: EntityManager,
  principal: Principal,
  mode: 'FOR UPDATE' | 'FOR NO KEY UPDATE' | 'FOR KEY SHARE',
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(`SELECT 1 FROM ${principal.type === 'user' ? 'users' : 'subusers'} WHERE id = $1 ${mode}`, [principal.id]);
  return rows.length > 0;
}
