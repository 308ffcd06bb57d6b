import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, decodeCursor, encodeCursor } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import type {
  Actor,
  CreatedServiceAccountView,
  CreateServiceAccountRequest,
  ListServiceAccountsRequest,
  Page,
  Principal,
  ServiceAccountRecord,
  ServiceAccountRequest,
  UpdateServiceAccountRequest,
} from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE, principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { accountOfActor } from '../accounts/account-scope.js';
import { assertRoomInAccount } from '../accounts/account-quota.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService, type AuditDetails } from '../audit/audit.service.js';
import { oncePerKey } from '../database/request-keys.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { writeActivityChanged } from '../principals/activity-events.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ServiceAccountEntity } from './service-account.entity.js';

/** The audit action of a change of a service account or of its keys. */
export type ServiceAccountAction =
  'service-account.created' | 'service-account.updated' | 'service-account.deleted' | 'service-account.key-created' | 'service-account.key-revoked';

/**
 * Service accounts: a program's identity in one account. They hold roles through access's bindings
 * as people do, and get access tokens only by exchanging one of their API keys
 * ({@link ServiceAccountKeysService}, {@link TokenExchangeService}). Deactivating or deleting one
 * ends every token it holds at once.
 */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MAX_SERVICE_ACCOUNTS_PER_ACCOUNT'>,
  ) {}

  /** A page of the account's service accounts, by name (case ignored), then id. */
  async list({ actor, accountId, query }: ListServiceAccountsRequest): Promise<Page<ServiceAccountRecord>> {
    await accountOfActor(this.dataSource.manager, actor, accountId);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, ['name'], ['text', 'uuid']);
    const builder = this.dataSource
      .getRepository(ServiceAccountEntity)
      .createQueryBuilder('s')
      .where('s.account_id = :accountId', { accountId })
      .orderBy('lower(s.name)', 'ASC')
      .addOrderBy('s.id', 'ASC')
      .limit(limit + 1);
    if (after) builder.andWhere('(lower(s.name), s.id) > (:name, CAST(:id AS uuid))', { name: after[0], id: after[1] });
    const rows = await builder.getMany();
    const page = rows.slice(0, limit);
    const lastUsed = await lastUsedOf(this.dataSource.manager, page);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => toRecord(row, lastUsed)),
      nextCursor: rows.length > limit ? encodeCursor(['name', last.name.toLowerCase(), last.id]) : null,
    };
  }

  /** One service account of the account. */
  async get({ actor, accountId, serviceAccountId }: ServiceAccountRequest): Promise<ServiceAccountRecord> {
    const serviceAccount = await this.target(this.dataSource.manager, actor, accountId, serviceAccountId);
    return toRecord(serviceAccount, await lastUsedOf(this.dataSource.manager, [serviceAccount]));
  }

  /**
   * Creates a service account (no key yet; access binds its roles next, from the gateway). Sent
   * again with the same `requestKey` after a lost answer, it is done once ({@link oncePerKey}).
   */
  async create({ actor, accountId, client, body, requestKey }: CreateServiceAccountRequest): Promise<CreatedServiceAccountView> {
    await accountOfActor(this.dataSource.manager, actor, accountId);
    return this.transactions
      .run((unit) =>
        oncePerKey(
          unit.manager,
          requestKey,
          accountId,
          async () => {
            await this.assertRoom(unit.manager, accountId);
            const id = randomUUID();
            await unit.manager.insert(ServiceAccountEntity, {
              id,
              accountId,
              name: body.name,
              description: body.description ?? '',
              active: true,
              createdByType: actor.type,
              createdById: actor.id,
            });
            await this.record(unit, actor, accountId, 'service-account.created', id, client.ip, {
              name: body.name,
              roles: body.roles,
              ...(body.applicationIds ? { applicationIds: body.applicationIds } : {}),
            });
            return { id };
          },
          ({ id }) => unit.manager.existsBy(ServiceAccountEntity, { id, accountId }),
        ),
      )
      .catch(nameTaken);
  }

  /** Renames, describes, deactivates or reactivates a service account; deactivation ends every token it holds at once. */
  async update({ actor, accountId, serviceAccountId, client, body }: UpdateServiceAccountRequest): Promise<ServiceAccountRecord> {
    assertNotItself(actor, serviceAccountId);
    return this.transactions
      .run(async (unit) => {
        // Locked: an exchange under way (which holds it shared) commits first, and its token is among those ended.
        const serviceAccount = await this.target(unit.manager, actor, accountId, serviceAccountId, 'lock');
        const changes: Partial<ServiceAccountEntity> = {};
        if (body.name !== undefined) changes.name = body.name;
        if (body.description !== undefined) changes.description = body.description;
        if (body.active !== undefined) changes.active = body.active;
        if (Object.keys(changes).length > 0) {
          await unit.manager.update(ServiceAccountEntity, { id: serviceAccountId, accountId }, changes);
          await this.record(unit, actor, accountId, 'service-account.updated', serviceAccountId, client.ip, { changed: Object.keys(changes) });
        }
        if (body.active !== undefined && body.active !== serviceAccount.active) await this.activityChanged(unit, accountId, serviceAccountId, body.active);
        const updated = (await unit.manager.findOneBy(ServiceAccountEntity, { id: serviceAccountId, accountId }))!;
        return toRecord(updated, await lastUsedOf(unit.manager, [updated]));
      })
      .catch(nameTaken);
  }

  /**
   * A service account deactivated (or reactivated) in `unit`, whose row it holds: deactivated, every
   * token it holds ends at once; either way access is told (`identity.principal.activity-changed`), as
   * for a subuser, and refuses an inactive one everything in its account.
   */
  private async activityChanged(unit: UnitOfWork, accountId: string, serviceAccountId: string, active: boolean): Promise<void> {
    if (!active) await this.sessions.endAll(unit, serviceAccountPrincipal(serviceAccountId), 'deactivated');
    await writeActivityChanged(unit.manager, this.outbox, { accountId, principalType: 'service-account', principalId: serviceAccountId }, active);
    unit.afterCommit(() => this.relay.nudge());
  }

  /** Deletes a service account: its keys go with it (by cascade) and every token it holds ends at once. */
  async remove({ actor, accountId, serviceAccountId, client }: ServiceAccountRequest): Promise<{ removed: true }> {
    assertNotItself(actor, serviceAccountId);
    await this.transactions.run(async (unit) => {
      const serviceAccount = await this.target(unit.manager, actor, accountId, serviceAccountId, 'lock');
      await unit.manager.delete(ServiceAccountEntity, { id: serviceAccountId, accountId });
      await this.sessions.endAll(unit, serviceAccountPrincipal(serviceAccountId), 'removed');
      await this.record(unit, actor, accountId, 'service-account.deleted', serviceAccountId, client.ip, { name: serviceAccount.name });
    });
    return { removed: true };
  }

  /**
   * The service account `serviceAccountId` of the account, once the actor works in the account
   * (NOT_FOUND otherwise, as for one that does not exist); `lock`: held for update until the
   * transaction ends.
   */
  async target(manager: EntityManager, actor: Actor, accountId: string, serviceAccountId: string, lock?: 'lock'): Promise<ServiceAccountEntity> {
    await accountOfActor(manager, actor, accountId);
    const serviceAccount = await manager.findOne(ServiceAccountEntity, {
      where: { id: serviceAccountId, accountId },
      ...(lock && { lock: { mode: 'pessimistic_write' as const } }),
    });
    if (!serviceAccount) throw new DomainError(ErrorCode.NotFound, 'Service account not found');
    return serviceAccount;
  }

  /** Records a change of service account `serviceAccountId` (or of its keys) in the account's audit trail, in `unit`. */
  record(unit: UnitOfWork, actor: Actor, accountId: string, action: ServiceAccountAction, serviceAccountId: string, ip: string, details: AuditDetails) {
    return this.audit.record(unit.manager, {
      accountIds: [accountId],
      action,
      actor: principalOf(actor),
      target: serviceAccountPrincipal(serviceAccountId),
      ip,
      details,
    });
  }

  /** Refuses one more service account to an account that has MAX_SERVICE_ACCOUNTS_PER_ACCOUNT already (every access replica keeps their bindings in memory). */
  private assertRoom(manager: EntityManager, accountId: string): Promise<void> {
    return assertRoomInAccount(manager, accountId, {
      kind: 'service-accounts',
      limit: this.config.MAX_SERVICE_ACCOUNTS_PER_ACCOUNT,
      count: (locked) => locked.countBy(ServiceAccountEntity, { accountId }),
      refusal: (held) => `This account has ${held} service accounts, the most it may have; delete one first`,
    });
  }
}

/** The principal of service account `id`. */
export function serviceAccountPrincipal(id: string): Principal {
  return { type: 'service-account', id };
}

/**
 * A service account never changes or deletes itself, nor its own keys: a leaked token would
 * otherwise mint itself keys that outlive it, or undo its own deactivation (as nobody manages their own roles).
 */
export function assertNotItself(actor: Actor, serviceAccountId: string): void {
  if (actor.type === 'service-account' && actor.id === serviceAccountId) {
    throw new DomainError(ErrorCode.Forbidden, 'A service account cannot manage itself or its own keys');
  }
}

/** When each service account of `accounts` last exchanged one of its keys (the latest use of any of them). */
async function lastUsedOf(manager: EntityManager, accounts: ServiceAccountEntity[]): Promise<Map<string, Date>> {
  if (accounts.length === 0) return new Map();
  const rows: Array<{ id: string; last_used_at: Date }> = await manager.query(
    `SELECT service_account_id AS id, max(last_used_at) AS last_used_at FROM service_account_keys
      WHERE service_account_id = ANY($1::uuid[]) AND last_used_at IS NOT NULL GROUP BY service_account_id`,
    [accounts.map((account) => account.id)],
  );
  return new Map(rows.map((row) => [row.id, row.last_used_at]));
}

function toRecord(serviceAccount: ServiceAccountEntity, lastUsed: ReadonlyMap<string, Date>): ServiceAccountRecord {
  return {
    id: serviceAccount.id,
    name: serviceAccount.name,
    description: serviceAccount.description,
    active: serviceAccount.active,
    createdBy: serviceAccount.createdByType && serviceAccount.createdById ? { type: serviceAccount.createdByType, id: serviceAccount.createdById } : null,
    createdAt: serviceAccount.createdAt.toISOString(),
    lastUsedAt: lastUsed.get(serviceAccount.id)?.toISOString() ?? null,
  };
}

const nameTaken = conflictOnDuplicate('A service account of this name exists in this account already', 'name');
