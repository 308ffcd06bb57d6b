import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CONFIG } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import {
  Events,
  type CreateRoleRequest,
  type DeleteRoleRequest,
  type GetRoleRequest,
  type Grant,
  type ListRoleHoldersRequest,
  type ListRolesRequest,
  type Page,
  type Principal,
  type RoleHolderView,
  type RoleView,
  type UpdateRoleRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore, type RoleRecord } from '../checks/decision-store.js';
import { roleGrantProblem, roleHoldersProblem } from '../checks/escalation.js';
import { sameBits, type Grants } from '../checks/permission-index.js';
import { roleView } from '../checks/views.js';
import { changedBy, grantList, roleChanges } from '../events/change-events.js';
import type { AccessConfig } from '../access.config.js';
import { assertRoomFor } from '../state/account-quota.js';
import { AccessStateService } from '../state/access-state.service.js';
import { heldApplications, holdersPage, shownApplications } from './role-holders.js';
import { visibleApplications } from '../applications/visible-applications.js';
import { RoleEntity } from './role.entity.js';

/** Built-in roles (read-only) and each account's custom roles. Each change writes its event (audited by identity) in its transaction. */
@Injectable()
export class RolesService {
  constructor(
    private readonly store: DecisionStore,
    private readonly state: AccessStateService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    @Inject(CONFIG) private readonly config: Pick<AccessConfig, 'ACCESS_MAX_CUSTOM_ROLES'>,
  ) {}

  /** Built-in roles, then custom ones, with how many principals hold each (once a reload of the account under way is done). */
  list({ accountId }: ListRolesRequest): RoleView[] | Promise<RoleView[]> {
    return this.store.whenCurrent(accountId, () => this.store.roles(accountId).map((role) => roleView(role, this.store.holdersOf(accountId, role.id))));
  }

  /** One role of the account by its id (as {@link update} names it), as {@link list} shows it. */
  async get({ accountId, roleId }: GetRoleRequest): Promise<RoleView> {
    return this.store.whenCurrent(accountId, () => {
      const role = this.knownRole(accountId, roleId);
      return roleView(role, this.store.holdersOf(accountId, role.id));
    });
  }

  /**
   * A page of the principals holding the role (those its `holders` counts: each with a binding of
   * it, inactive ones too; never the owner, who holds no bindings), and where they hold it.
   */
  async holders({ actor, accountId, roleId, query }: ListRoleHoldersRequest): Promise<Page<RoleHolderView>> {
    return this.store.whenCurrent(accountId, () => {
      const role = this.knownRole(accountId, roleId);
      // Where a holder holds it, of the applications the caller may see (as its list of applications shows them).
      const visible = visibleApplications(this.store, actor, accountId);
      return holdersPage(this.store.holders(accountId, role.id), query, (principal) => ({
        principal,
        applicationIds: shownApplications(heldApplications(this.store.bindingsOf(principal, accountId), role.id), visible),
      }));
    });
  }

  /** A new custom role, from explicit grants or cloned from another role (at most ACCESS_MAX_CUSTOM_ROLES an account). */
  async create(request: CreateRoleRequest): Promise<RoleView> {
    const { actor, accountId, body } = request;
    const id = randomUUID();
    const view = await this.state.mutate(accountId, async (manager) => {
      this.assertNameFree(accountId, body.name);
      const grants = body.grants ? this.grantsFrom(body.grants) : this.source(accountId, body.from).grants;
      this.assertMayGrant(actor, accountId, grants);
      await assertRoomFor(manager, RoleEntity, accountId, { limit: this.config.ACCESS_MAX_CUSTOM_ROLES, what: 'custom roles' });
      const role = { id, accountId, name: body.name, description: body.description ?? null, grants };
      await manager.getRepository(RoleEntity).insert(role).catch(roleNameTaken);
      const data = { roleId: id, name: role.name, description: role.description, grants: grantList(grants) };
      await this.outbox.add(manager, Events.RoleCreated, accountId, { ...changedBy(request), ...data });
      return roleView(await this.written(manager, accountId, id), 0);
    });
    this.relay.nudge();
    return view;
  }

  /** Renames or regrants a custom role; everyone holding it gets the new grants at once. */
  async update(request: UpdateRoleRequest): Promise<RoleView> {
    const { actor, accountId, roleId, body } = request;
    const view = await this.state.mutate(accountId, async (manager) => {
      const role = this.customRole(accountId, roleId);
      if (body.name !== undefined && body.name.toLowerCase() !== role.name.toLowerCase()) this.assertNameFree(accountId, body.name);
      const grants = body.grants ? this.grantsFrom(body.grants) : role.grants;
      this.assertMayGrant(actor, accountId, role.grants);
      this.assertMayGrant(actor, accountId, grants);
      if (!sameBits(this.store.index.encode(grants), role.bits)) this.assertMayRegrantHolders(actor, accountId, role.id);
      const changes = { grants, ...(body.name !== undefined && { name: body.name }), ...(body.description !== undefined && { description: body.description }) };
      await manager.getRepository(RoleEntity).update({ id: role.id, accountId }, changes).catch(roleNameTaken);
      await this.recordUpdate(manager, request, role, grants);
      return roleView(await this.written(manager, accountId, role.id), this.store.holdersOf(accountId, role.id));
    });
    this.relay.nudge();
    return view;
  }

  /**
   * The custom role as its change wrote it, read back in that change's transaction: what the reply
   * shows. Memory is no source for it: should the reload after the commit fail, it still holds the
   * account as it was before the change (the role missing, or as it was).
   */
  private async written(manager: EntityManager, accountId: string, id: string): Promise<RoleRecord> {
    const row = await manager.getRepository(RoleEntity).findOneByOrFail({ id, accountId });
    const { name, description, grants } = row;
    return { id, accountId, name, description, grants, bits: this.store.index.encode(grants), builtin: false };
  }

  /** Writes `access.role.updated` with what the edit changed (nothing when it changed nothing). */
  private async recordUpdate(manager: EntityManager, request: UpdateRoleRequest, role: RoleRecord, grants: Grants): Promise<void> {
    const { accountId, body } = request;
    const before = { name: role.name, description: role.description, grants: grantList(role.grants) };
    // `description: null` clears it, and is a change to record: only an absent field keeps the old value.
    const description = body.description !== undefined ? body.description : role.description;
    const changes = roleChanges(before, { name: body.name ?? role.name, description, grants: grantList(grants) });
    if (Object.keys(changes).length === 0) return;
    const data = { roleId: role.id, name: body.name ?? role.name, changes, holders: this.store.holdersOf(accountId, role.id) };
    await this.outbox.add(manager, Events.RoleUpdated, accountId, { ...changedBy(request), ...data });
  }

  /** Deletes a custom role nobody holds. */
  async delete(request: DeleteRoleRequest): Promise<{ deleted: true }> {
    const { actor, accountId, roleId } = request;
    await this.state.mutate(accountId, async (manager) => {
      const role = this.customRole(accountId, roleId);
      this.assertMayGrant(actor, accountId, role.grants);
      const holders = this.store.holdersOf(accountId, role.id);
      if (holders > 0) throw new DomainError(ErrorCode.Conflict, `The role is held by ${holders} principal(s); unbind it first`, { holders });
      await manager.getRepository(RoleEntity).delete({ id: role.id, accountId });
      const data = { roleId: role.id, name: role.name, grants: grantList(role.grants) };
      await this.outbox.add(manager, Events.RoleDeleted, accountId, { ...changedBy(request), ...data });
    });
    this.relay.nudge();
    return { deleted: true };
  }

  /** A custom role's name may not be taken by a built-in role, the owner role, or look like a built-in role's id. */
  private assertNameFree(accountId: string, name: string): void {
    const lower = name.toLowerCase();
    const builtin = this.store.roles(accountId).some((role) => role.builtin && role.name.toLowerCase() === lower);
    if (builtin || lower === this.store.catalog.ownerRole.toLowerCase()) {
      throw new DomainError(ErrorCode.Conflict, `"${name}" is the name of a built-in role; choose another`, { field: 'name' });
    }
    if (lower.startsWith(BUILTIN_ROLE_PREFIX)) {
      throw new DomainError(ErrorCode.Conflict, `Names starting with "${BUILTIN_ROLE_PREFIX}" are kept for built-in roles' ids; choose another`, {
        field: 'name',
      });
    }
  }

  /** The role a path names, built-in or custom: by id only (a name there names nothing, as any id that is none, or another account's role). */
  private knownRole(accountId: string, roleId: string): RoleRecord {
    const role = this.store.roleById(accountId, roleId);
    if (!role) throw new DomainError(ErrorCode.NotFound, 'Role not found');
    return role;
  }

  /** The custom role a path names: by id only (a name there names nothing, as any id that is none). */
  private customRole(accountId: string, roleId: string): RoleRecord {
    const role = this.knownRole(accountId, roleId);
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
    const grants: Grants = Object.create(null) as Grants;
    const unknown: string[] = [];
    for (const { section, actions } of list) {
      for (const action of actions) if (this.store.index.bit(section, action) === undefined) unknown.push(`${section}:${action}`);
      grants[section] = [...new Set([...(grants[section] ?? []), ...actions])];
    }
    if (unknown.length > 0) throw new DomainError(ErrorCode.ValidationFailed, `grants: unknown section or action ${unknown.join(', ')}`, { unknown });
    const bits = this.store.index.encode(grants);
    return this.store.index.decode(bits);
  }

  /** A change of what the role grants changes every holder's rights: refused when one holds permissions the actor lacks. */
  private assertMayRegrantHolders(actor: Principal, accountId: string, roleId: string): void {
    const holders = this.store.holders(accountId, roleId).filter((holder) => !this.store.isOwner(holder, accountId));
    const acting = this.store.actingAs(actor, accountId);
    // Holders are judged by what their bindings give, inactive or not.
    const problem = roleHoldersProblem(
      acting.owner,
      acting.rights,
      holders.map((holder) => this.store.effective(holder, accountId)),
    );
    if (problem) throw new DomainError(ErrorCode.Forbidden, problem);
  }

  private assertMayGrant(actor: Principal, accountId: string, grants: Grants): void {
    const acting = this.store.actingAs(actor, accountId);
    const problem = roleGrantProblem(acting.owner, acting.rights, this.store.index.encode(grants));
    if (problem) throw new DomainError(ErrorCode.Forbidden, problem);
  }
}

const roleNameTaken = conflictOnDuplicate('A role with this name already exists in the account', 'name');
