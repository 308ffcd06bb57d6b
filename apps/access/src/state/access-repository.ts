import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AccountSnapshot } from '../checks/decision-store.js';
import { ApplicationEntity } from '../applications/application.entity.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { AccountOwnerEntity } from '../owners/account-owner.entity.js';
import { RoleEntity } from '../roles/role.entity.js';

/** Reads the decision data of accounts from PostgreSQL (the source of truth). */
@Injectable()
export class AccessRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One account's snapshot. */
  async loadAccount(accountId: string): Promise<AccountSnapshot> {
    const [owner, roles, bindings, applications] = await Promise.all([
      this.dataSource.getRepository(AccountOwnerEntity).findOneBy({ accountId }),
      this.dataSource.getRepository(RoleEntity).findBy({ accountId }),
      this.dataSource.getRepository(BindingEntity).findBy({ accountId }),
      this.dataSource.getRepository(ApplicationEntity).findBy({ accountId }),
    ]);
    return { accountId, ownerId: owner?.userId ?? null, roles, bindings, applications };
  }

  /** Every account's snapshot (at start). */
  async loadAll(): Promise<AccountSnapshot[]> {
    const [owners, roles, bindings, applications] = await Promise.all([
      this.dataSource.getRepository(AccountOwnerEntity).find(),
      this.dataSource.getRepository(RoleEntity).find(),
      this.dataSource.getRepository(BindingEntity).find(),
      this.dataSource.getRepository(ApplicationEntity).find(),
    ]);
    const snapshots = new Map<string, AccountSnapshot>();
    const of = (accountId: string) => {
      let snapshot = snapshots.get(accountId);
      if (!snapshot) snapshots.set(accountId, (snapshot = { accountId, ownerId: null, roles: [], bindings: [], applications: [] }));
      return snapshot;
    };
    for (const owner of owners) of(owner.accountId).ownerId = owner.userId;
    for (const role of roles) of(role.accountId).roles.push(role);
    for (const binding of bindings) of(binding.accountId).bindings.push(binding);
    for (const application of applications) of(application.accountId).applications.push(application);
    return [...snapshots.values()];
  }
}
