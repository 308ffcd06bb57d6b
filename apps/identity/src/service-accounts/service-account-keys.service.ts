import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type {
  CreatedServiceAccountKeyView,
  CreateServiceAccountKeyRequest,
  ServiceAccountKeyRequest,
  ServiceAccountKeyView,
  ServiceAccountRequest,
} from '#libs/contracts/index.js';
import { SERVICE_ACCOUNT_SECRET_HINT_LENGTH, SERVICE_ACCOUNT_SECRET_PREFIX } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { hashSecretToken } from '../credentials/secret-token.js';
import { Transactions } from '../database/unit-of-work.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ServiceAccountKeyEntity } from './service-account-key.entity.js';
import { assertNotItself, serviceAccountPrincipal, ServiceAccountsService } from './service-accounts.service.js';

/**
 * The API keys of service accounts: a public id (the client id) and a secret of 256 random bits,
 * answered once at creation and kept only as its SHA-256 hash; at most MAX_KEYS_PER_SERVICE_ACCOUNT
 * live at once (two for a rotation). Revoking one ends the tokens issued for it at once.
 */
@Injectable()
export class ServiceAccountKeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MAX_KEYS_PER_SERVICE_ACCOUNT'>,
  ) {}

  /** The keys of a service account that are not revoked (expired ones too, until revoked), oldest first; never a secret. */
  async list({ actor, accountId, serviceAccountId }: ServiceAccountRequest): Promise<ServiceAccountKeyView[]> {
    await this.serviceAccounts.target(this.dataSource.manager, actor, accountId, serviceAccountId);
    const keys = await this.dataSource.manager.find(ServiceAccountKeyEntity, {
      where: { serviceAccountId, accountId, revokedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return keys.map(toView);
  }

  /** A new key: its secret is in this answer only. 409 when the service account holds MAX_KEYS_PER_SERVICE_ACCOUNT live keys already. */
  async create({ actor, accountId, serviceAccountId, client, body }: CreateServiceAccountKeyRequest): Promise<CreatedServiceAccountKeyView> {
    assertNotItself(actor, serviceAccountId);
    const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt);
    if (expiresAt && expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new DomainError(ErrorCode.ValidationFailed, 'expiresAt must be in the future', { field: 'expiresAt' });
    }
    const secret = `${SERVICE_ACCOUNT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    return this.transactions.run(async (unit) => {
      // Locked: two creates at once count the live keys one after the other, and a deletion comes wholly before or after.
      await this.serviceAccounts.target(unit.manager, actor, accountId, serviceAccountId, 'lock');
      await this.assertRoomForKey(unit.manager, serviceAccountId);
      const key = Object.assign(new ServiceAccountKeyEntity(), {
        id: randomUUID(),
        serviceAccountId,
        accountId,
        secretHash: hashSecretToken(secret),
        hint: secret.slice(0, SERVICE_ACCOUNT_SECRET_HINT_LENGTH),
        expiresAt,
        lastUsedAt: null,
        revokedAt: null,
        createdAt: this.clock.now(),
      });
      await unit.manager.insert(ServiceAccountKeyEntity, key);
      await this.serviceAccounts.record(unit, actor, accountId, 'service-account.key-created', serviceAccountId, client.ip, {
        keyId: key.id,
        hint: key.hint,
        expiresAt: expiresAt?.toISOString() ?? null,
      });
      return { ...toView(key), secret };
    });
  }

  /** Revokes a key: it is refused from now on, and the tokens issued for it are refused by every gateway at once. */
  async revoke({ actor, accountId, serviceAccountId, keyId, client }: ServiceAccountKeyRequest): Promise<{ revoked: true }> {
    assertNotItself(actor, serviceAccountId);
    await this.transactions.run(async (unit) => {
      await this.serviceAccounts.target(unit.manager, actor, accountId, serviceAccountId);
      // The row lock waits for an exchange of this key under way: its token is then among those ended.
      const [, revoked] = await unit.manager.query<[unknown[], number]>(
        `UPDATE service_account_keys SET revoked_at = $1 WHERE id = $2 AND service_account_id = $3 AND account_id = $4 AND revoked_at IS NULL`,
        [this.clock.now(), keyId, serviceAccountId, accountId],
      );
      if (revoked === 0) throw new DomainError(ErrorCode.NotFound, 'Key not found');
      const ended = await this.sessions.endForKey(unit, serviceAccountPrincipal(serviceAccountId), keyId);
      await this.serviceAccounts.record(unit, actor, accountId, 'service-account.key-revoked', serviceAccountId, client.ip, {
        keyId,
        tokensEnded: ended.length,
      });
    });
    return { revoked: true };
  }

  private async assertRoomForKey(manager: EntityManager, serviceAccountId: string): Promise<void> {
    const live = await manager.countBy(ServiceAccountKeyEntity, { serviceAccountId, revokedAt: IsNull() });
    if (live >= this.config.MAX_KEYS_PER_SERVICE_ACCOUNT) {
      throw new DomainError(ErrorCode.Conflict, `This service account holds ${live} keys, the most it may; revoke one first`, {
        limit: this.config.MAX_KEYS_PER_SERVICE_ACCOUNT,
      });
    }
  }
}

function toView(key: ServiceAccountKeyEntity): ServiceAccountKeyView {
  return {
    id: key.id,
    hint: key.hint,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}
