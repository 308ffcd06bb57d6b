import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { ActionTokenEntity, type ActionTokenPurpose } from './action-token.entity.js';
import { hashSecretToken, newSecretToken } from './secret-token.js';

/** A token just made: the plain value goes into the mail, never into the database. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** Single-use, expiring, hashed link tokens for activation and reset. */
@Injectable()
export class ActionTokensService {
  constructor(
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Makes a new token for (user, purpose), voiding every older unused one. */
  async issue(manager: EntityManager, userId: string, accountId: string | null, purpose: ActionTokenPurpose): Promise<IssuedToken> {
    const now = this.clock.now();
    await manager.update(ActionTokenEntity, { userId, purpose, usedAt: IsNull(), voidedAt: IsNull() }, { voidedAt: now });
    const token = newSecretToken();
    const expiresAt = new Date(now.getTime() + this.lifetimeMs(purpose));
    await manager.insert(ActionTokenEntity, { id: randomUUID(), tokenHash: hashSecretToken(token), purpose, userId, accountId, expiresAt });
    return { token, expiresAt };
  }

  /** Uses up a token (locking it), or fails with INVALID_TOKEN whether it is unknown, used, voided or expired. */
  async consume(manager: EntityManager, token: string, purpose: ActionTokenPurpose): Promise<ActionTokenEntity> {
    const row = await manager.findOne(ActionTokenEntity, { where: { tokenHash: hashSecretToken(token), purpose }, lock: { mode: 'pessimistic_write' } });
    const now = this.clock.now();
    if (!row || row.usedAt || row.voidedAt || row.expiresAt <= now) {
      throw new DomainError(ErrorCode.InvalidToken, 'This link is invalid or has expired; ask for a new one');
    }
    await manager.update(ActionTokenEntity, { id: row.id }, { usedAt: now });
    return row;
  }

  private lifetimeMs(purpose: ActionTokenPurpose): number {
    return purpose === 'activation' ? this.config.ACTIVATION_TOKEN_TTL_HOURS * 3600_000 : this.config.RESET_TOKEN_TTL_MINUTES * 60_000;
  }
}
