import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { isLockTimeout } from '#libs/platform/index.js';
import { LockClass, lockForTransaction } from '#libs/platform/storage.js';
import type { AccountSnapshot } from '../checks/decision-store.js';
import { ApplicationEntity } from '../applications/application.entity.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { AccountOwnerEntity } from '../owners/account-owner.entity.js';
import { PrincipalActivityEntity } from '../principals/principal-activity.entity.js';
import { RoleEntity } from '../roles/role.entity.js';

/** One account's snapshot in one statement, so one consistent view of its rows ($1: the account). */
const ACCOUNT_SNAPSHOT_SQL = `SELECT
    (SELECT user_id FROM account_owners WHERE account_id = $1) AS "ownerId",
    coalesce((SELECT version FROM account_versions WHERE account_id = $1), 0) AS version,
    coalesce((SELECT json_agg(json_build_object('id', id, 'name', name, 'description', description, 'grants', grants))
      FROM roles WHERE account_id = $1), '[]') AS roles,
    coalesce((SELECT json_agg(json_build_object('principalType', principal_type, 'principalId', principal_id, 'roleId', role_id,
      'applicationIds', application_ids)) FROM bindings WHERE account_id = $1), '[]') AS bindings,
    coalesce((SELECT json_agg(json_build_object('id', id, 'name', name)) FROM applications WHERE account_id = $1), '[]') AS applications,
    coalesce((SELECT json_agg(json_build_object('principalType', principal_type, 'principalId', principal_id))
      FROM principal_activity WHERE account_id = $1 AND NOT active), '[]') AS inactive`;

/** Accounts whose version moved since a moment, with the database's clock ($1: the moment). */
const CHANGED_SINCE_SQL = `SELECT now() AS "polledAt",
    coalesce(json_agg(json_build_object('accountId', account_id, 'version', version)), '[]') AS changes
  FROM account_versions WHERE changed_at >= $1`;

/** The database's clock in microseconds since 1970 (2^53 is 285 years away). */
const CLOCK_MICROSECONDS = `(extract(epoch FROM clock_timestamp()) * 1000000)::bigint`;

/** The answer to a change of an account that could not start within its wait (503: retry). */
export function accountChangeBusy(): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, 'Another change of this account is under way; retry shortly');
}

/** What {@link AccessRepository.changedSince} found. */
export interface ChangedAccounts {
  /** The database's clock when it looked. */
  polledAt: Date;
  changes: Array<{ accountId: string; version: number }>;
}

/** Reads the decision data of accounts from PostgreSQL (the source of truth), and keeps each account's change counter. */
@Injectable()
export class AccessRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One account's snapshot; with `manager`, inside that transaction. */
  async loadAccount(accountId: string, manager: EntityManager = this.dataSource.manager): Promise<AccountSnapshot> {
    const [row] = await manager.query<Array<Omit<AccountSnapshot, 'accountId' | 'version'> & { version: string }>>(ACCOUNT_SNAPSHOT_SQL, [accountId]);
    const { ownerId, roles, bindings, applications, inactive } = row;
    return { accountId, ownerId, version: Number(row.version), roles, bindings, applications, inactive };
  }

  /** Every account's snapshot (at start), all read in one transaction's snapshot. */
  loadAll(): Promise<AccountSnapshot[]> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const owners = await manager.getRepository(AccountOwnerEntity).find();
      const roles = await manager.getRepository(RoleEntity).find();
      const bindings = await manager.getRepository(BindingEntity).find();
      const applications = await manager.getRepository(ApplicationEntity).find();
      const inactive = await manager.getRepository(PrincipalActivityEntity).find({ where: { active: false } });
      const versions = await manager.query<Array<{ accountId: string; version: string }>>(`SELECT account_id AS "accountId", version FROM account_versions`);
      const snapshots = new Map<string, AccountSnapshot>();
      const of = (accountId: string) => {
        let snapshot = snapshots.get(accountId);
        if (!snapshot) snapshots.set(accountId, (snapshot = { accountId, version: 0, ownerId: null, roles: [], bindings: [], applications: [], inactive: [] }));
        return snapshot;
      };
      for (const { accountId, version } of versions) of(accountId).version = Number(version);
      for (const owner of owners) of(owner.accountId).ownerId = owner.userId;
      for (const role of roles) of(role.accountId).roles.push(role);
      for (const binding of bindings) of(binding.accountId).bindings.push(binding);
      for (const application of applications) of(application.accountId).applications.push(application);
      for (const principal of inactive) of(principal.accountId).inactive.push(principal);
      return [...snapshots.values()];
    });
  }

  /** The accounts changed at or after `since` (all of them without it). */
  async changedSince(since: Date | undefined): Promise<ChangedAccounts> {
    const [row] = await this.dataSource.query<Array<{ polledAt: Date; changes: Array<{ accountId: string; version: string | number }> }>>(CHANGED_SINCE_SQL, [
      since ?? new Date(0),
    ]);
    return { polledAt: row.polledAt, changes: row.changes.map(({ accountId, version }) => ({ accountId, version: Number(version) })) };
  }

  /** The database's clock. */
  async clock(): Promise<Date> {
    const [{ now }] = await this.dataSource.query<Array<{ now: Date }>>('SELECT now()');
    return now;
  }

  /**
   * Waits, inside the transaction, until no other transaction changes the account (at most
   * `timeoutMs`: then 503, retry); held until it ends.
   */
  async lockAccount(manager: EntityManager, accountId: string, timeoutMs: number): Promise<void> {
    // The timeout bounds this wait only: the change's own statements keep the usual one.
    await manager.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await lockForTransaction(manager, [{ lockClass: LockClass.AccessAccountChange, key: accountId }]).catch((error: unknown) => {
      if (isLockTimeout(error)) {
        throw accountChangeBusy();
      }
      throw error;
    });
    await manager.query('SET LOCAL lock_timeout TO DEFAULT');
  }

  /** The account's committed version (0: never changed), inside the transaction. */
  async versionOf(manager: EntityManager, accountId: string): Promise<number> {
    const [row] = await manager.query<Array<{ version: string }>>('SELECT version FROM account_versions WHERE account_id = $1', [accountId]);
    return row ? Number(row.version) : 0;
  }

  /**
   * Raises the account's version, inside the transaction that changes it; returns the new version:
   * one more than before, and at least the database's clock in microseconds since 1970. The clock
   * keeps a version from coming back after the database lost its last commits (a failover to an
   * asynchronous standby, a restore): replicas that held a version written then hear the next
   * change as newer, and reload, rather than keep what the database no longer holds.
   */
  async bumpVersion(manager: EntityManager, accountId: string): Promise<number> {
    const [{ version }] = await manager.query<Array<{ version: string }>>(
      `INSERT INTO account_versions (account_id, version) VALUES ($1, ${CLOCK_MICROSECONDS})
       ON CONFLICT (account_id) DO UPDATE SET version = GREATEST(account_versions.version + 1, ${CLOCK_MICROSECONDS}), changed_at = clock_timestamp()
       RETURNING version`,
      [accountId],
    );
    return Number(version);
  }
}
