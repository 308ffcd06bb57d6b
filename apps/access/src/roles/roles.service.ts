import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { conflictOnDuplicate } from '#libs/platform/index.js';
import type { CreateRoleRequest, DeleteRoleRequest, Grant, ListRolesRequest, Principal, RoleView, UpdateRoleRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { DecisionStore, type RoleRecord } from '../checks/decision-store.js';
import { roleGrantProblem } from '../checks/escalation.js';
import type { Grants } from '../checks/permission-index.js';
import { roleView } from '../checks/views.js';
import { AccessStateService } from '../state/access-state.service.js';
import { RoleEntity } from './role.entity.js';

/** Built-in roles (read-only) and each account's custom roles. */
@Injectable()
export class RolesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: DecisionStore,
    private readonly state: AccessStateService,
  ) {}

  /** Built-in roles, then custom ones, with how many principals hold each. */
  list({ accountId }: ListRolesRequest): RoleView[] {
    return this.store.roles(accountId).map((role) => roleView(role, this.store.holdersOf(accountId, role.id)));
  }

  /** A new custom role, from explicit grants or cloned from another role. */
  async create({ actor, accountId, body }: CreateRoleRequest): Promise<RoleView> {
    const grants = body.grants ? this.grantsFrom(body.grants) : this.source(accountId, body.from).grants;
    this.assertMayGrant(actor, accountId, grants);
    const id = randomUUID();
    await this.dataSource
      .getRepository(RoleEntity)
      .insert({ id, accountId, name: body.name, description: body.description ?? null, grants })
      .catch(roleNameTaken);
    await this.state.changed(accountId);
    return roleView(this.store.role(accountId, id)!, 0);
  }

  /** Renames or regrants a custom role; everyone holding it gets the new grants at once. */
  async update({ actor, accountId, roleId, body }: UpdateRoleRequest): Promise<RoleView> {
    const role = this.customRole(accountId, roleId);
    const grants = body.grants ? this.grantsFrom(body.grants) : role.grants;
    this.assertMayGrant(actor, accountId, role.grants);
    this.assertMayGrant(actor, accountId, grants);
    const changes = { grants, ...(body.name !== undefined && { name: body.name }), ...(body.description !== undefined && { description: body.description }) };
    await this.dataSource.getRepository(RoleEntity).update({ id: role.id, accountId }, changes).catch(roleNameTaken);
    await this.state.changed(accountId);
    return roleView(this.store.role(accountId, role.id)!, this.store.holdersOf(accountId, role.id));
  }

  /** Deletes a custom role nobody holds. */
  async delete({ actor, accountId, roleId }: DeleteRoleRequest): Promise<{ deleted: true }> {
    const role = this.customRole(accountId, roleId);
    this.assertMayGrant(actor, accountId, role.grants);
    const holders = this.store.holdersOf(accountId, role.id);
    if (holders > 0) throw new DomainError(ErrorCode.Conflict, `The role is held by ${holders} principal(s); unbind it first`, { holders });
    await this.dataSource.getRepository(RoleEntity).delete({ id: role.id, accountId });
    await this.state.changed(accountId);
    return { deleted: true };
  }

  private customRole(accountId: string, roleId: string): RoleRecord {
    const role = this.store.role(accountId, roleId);
    if (!role) throw new DomainError(ErrorCode.NotFound, 'Role not found');
    if (role.builtin) throw new DomainError(ErrorCode.Forbidden, 'Built-in roles are read-only; clone one with "from" to adapt it');
    return role;
  }

  private source(accountId: string, from: string | undefined): RoleRecord {
    if (!from) throw new DomainError(ErrorCode.ValidationFailed, 'grants or from is required');
    const role = this.store.role(accountId, from);
    if (!role) throw new DomainError(ErrorCode.ValidationFailed, `from: no role "${from}"`);
    return role;
  }

  private grantsFrom(list: Grant[]): Grants {
    const grants: Grants = {};
    const unknown: string[] = [];
    for (const { section, actions } of list) {
      for (const action of actions) if (this.store.index.bit(section, action) === undefined) unknown.push(`${section}:${action}`);
      grants[section] = [...new Set([...(grants[section] ?? []), ...actions])];
    }
    if (unknown.length > 0) throw new DomainError(ErrorCode.ValidationFailed, `grants: unknown section or action ${unknown.join(', ')}`, { unknown });
    const bits = this.store.index.encode(grants);
    return this.store.index.decode(bits);
  }

  private assertMayGrant(actor: Principal, accountId: string, grants: Grants): void {
    const problem = roleGrantProblem(this.store.isOwner(actor, accountId), this.store.effective(actor, accountId), this.store.index.encode(grants));
    if (problem) throw new DomainError(ErrorCode.Forbidden, problem);
  }
}

const roleNameTaken = conflictOnDuplicate('A role with this name already exists in the account', 'name');
