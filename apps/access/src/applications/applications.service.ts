import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, decodeCursor, encodeCursor } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import {
  DEFAULT_PAGE_SIZE,
  Events,
  type ApplicationView,
  type CreateApplicationRequest,
  type DeleteApplicationRequest,
  type ListApplicationsRequest,
  type Page,
  type Principal,
  type RenameApplicationRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { DecisionStore, principalOfKey, type BindingRecord } from '../checks/decision-store.js';
import { writeBindingsReplaced, type HeldChange } from '../bindings/bindings-replaced.js';
import { isEmpty } from '../checks/permission-index.js';
import { changedBy } from '../events/change-events.js';
import type { AccessConfig } from '../access.config.js';
import { assertRoomFor } from '../state/account-quota.js';
import { AccessStateService } from '../state/access-state.service.js';
import { ApplicationEntity } from './application.entity.js';
import { visibleApplications } from './visible-applications.js';

/**
 * An account's applications. A principal limited to some applications sees only those. Each change
 * writes its event (audited by identity) in its transaction.
 */
@Injectable()
export class ApplicationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: DecisionStore,
    private readonly state: AccessStateService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    @Inject(CONFIG) private readonly config: Pick<AccessConfig, 'ACCESS_MAX_APPLICATIONS'>,
  ) {}

  /**
   * A page of the applications the actor may see, by name (case ignored, as names are unique),
   * those whose name contains `search` only when it is given. One query, whatever the page's depth.
   * Who sees what is read once a reload of the account under way is done (as every read), so the
   * request after a change of bindings on another replica sees it.
   */
  async list({ actor, accountId, query = {} }: ListApplicationsRequest): Promise<Page<ApplicationView>> {
    const seen = await this.store.whenCurrent(accountId, () => visibleApplications(this.store, actor, accountId));
    if (seen !== 'all' && seen.length === 0) return { items: [], nextCursor: null };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const [afterKey = null, afterId = null] = decodeCursor(query.cursor, ['name'], ['text', 'uuid']) ?? [];
    const rows = await this.dataSource.query<Array<{ id: string; name: string; created_at: Date; sort_key: string }>>(
      `SELECT id, name, created_at, lower(name) AS sort_key FROM applications
        WHERE account_id = $1
          AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
          AND ($3::text IS NULL OR strpos(lower(name), lower($3)) > 0)
          AND ($4::text IS NULL OR (lower(name), id) > ($4::text, $5::uuid))
        ORDER BY lower(name), id
        LIMIT $6`,
      [accountId, seen === 'all' ? null : seen, query.search ?? null, afterKey, afterId, limit + 1],
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => view({ id: row.id, name: row.name, createdAt: row.created_at })),
      nextCursor: rows.length > limit && last ? encodeCursor(['name', last.sort_key, last.id]) : null,
    };
  }

  /** A new application, by an actor who is someone in the account (an inactive one is nobody there); at most ACCESS_MAX_APPLICATIONS an account. */
  async create(request: CreateApplicationRequest): Promise<ApplicationView> {
    const { actor, accountId, body } = request;
    const row = { id: randomUUID(), accountId, name: body.name, createdAt: new Date() };
    await this.state.mutate(accountId, async (manager) => {
      this.assertActs(actor, accountId);
      await assertRoomFor(manager, ApplicationEntity, accountId, { limit: this.config.ACCESS_MAX_APPLICATIONS, what: 'applications' });
      await manager.getRepository(ApplicationEntity).insert(row).catch(applicationNameTaken);
      await this.outbox.add(manager, Events.ApplicationCreated, accountId, { ...changedBy(request), applicationId: row.id, name: row.name });
    });
    this.relay.nudge();
    return view(row);
  }

  /** Renames an application the actor can see. */
  async rename(request: RenameApplicationRequest): Promise<ApplicationView> {
    const { actor, accountId, applicationId, body } = request;
    const row = await this.state.mutate(accountId, async (manager) => {
      const found = await this.visibleRow(manager, actor, accountId, applicationId);
      await manager.getRepository(ApplicationEntity).update({ id: found.id, accountId }, { name: body.name }).catch(applicationNameTaken);
      const renamed = { applicationId: found.id, name: body.name, previousName: found.name };
      if (found.name !== body.name) await this.outbox.add(manager, Events.ApplicationRenamed, accountId, { ...changedBy(request), ...renamed });
      return found;
    });
    this.relay.nudge();
    return view({ ...row, name: body.name });
  }

  /**
   * Deletes an application; bindings limited to it lose it (and go when nothing is left of them).
   * Each principal who loses a role so (its only application went) is told of as any change of its
   * roles (`access.bindings.replaced`: identity's role projection hears it).
   */
  async delete(request: DeleteApplicationRequest): Promise<{ deleted: true }> {
    const { actor, accountId, applicationId } = request;
    await this.state.mutate(accountId, async (manager, version) => {
      const found = await this.visibleRow(manager, actor, accountId, applicationId);
      const losing = principalsLosingRoles(this.store.boundPrincipals(accountId), applicationId);
      const bindings = await dropFromBindings(manager, accountId, applicationId);
      await manager.delete(ApplicationEntity, { id: applicationId, accountId });
      const data = { applicationId, name: found.name, bindingsNarrowed: bindings.narrowed, bindingsRemoved: bindings.removed };
      await this.outbox.add(manager, Events.ApplicationDeleted, accountId, { ...changedBy(request), ...data });
      for (const change of losing) await writeBindingsReplaced(manager, this.events, changedBy(request), { ...change, version });
    });
    this.relay.nudge();
    return { deleted: true };
  }

  /** What {@link writeBindingsReplaced} needs. */
  private get events() {
    return { store: this.store, outbox: this.outbox };
  }

  private async visibleRow(manager: EntityManager, actor: Principal, accountId: string, applicationId: string): Promise<ApplicationEntity> {
    const row = await manager.getRepository(ApplicationEntity).findOneBy({ id: applicationId, accountId });
    if (!row || !this.visible(actor, accountId, applicationId)) throw new DomainError(ErrorCode.NotFound, 'Application not found');
    return row;
  }

  /** The gateway checked `applications:write`; access still refuses an actor with no rights here (inactive, or not a member), as for rename and delete. */
  private assertActs(actor: Principal, accountId: string): void {
    const acting = this.store.actingAs(actor, accountId);
    if (!acting.owner && !acting.rights) throw new DomainError(ErrorCode.Forbidden, 'You hold no rights in this account');
  }

  private visible(actor: Principal, accountId: string, applicationId: string): boolean {
    const effective = this.store.actingAs(actor, accountId).rights;
    if (!effective) return false;
    const limited = effective.perApplication.get(applicationId);
    return !isEmpty(effective.unlimited) || (limited !== undefined && !isEmpty(limited));
  }
}

/**
 * The principals a deletion of the application takes a binding from (one limited to it alone),
 * each with its bindings before and after (the others limited to it narrowed, as the deletion does).
 */
export function principalsLosingRoles(bound: ReadonlyMap<string, BindingRecord[]>, applicationId: string): Omit<HeldChange, 'version'>[] {
  const changes: Omit<HeldChange, 'version'>[] = [];
  for (const [key, before] of bound) {
    const after = before
      .map((binding) => ({ ...binding, applicationIds: binding.applicationIds?.filter((id) => id !== applicationId) ?? null }))
      .filter((binding) => binding.applicationIds === null || binding.applicationIds.length > 0);
    if (after.length < before.length) changes.push({ principal: principalOfKey(key), before: [...before], after });
  }
  return changes;
}

/** Takes the application out of every binding limited to it; a binding left with none goes. How many were narrowed and removed. */
async function dropFromBindings(manager: EntityManager, accountId: string, applicationId: string): Promise<{ narrowed: number; removed: number }> {
  // An UPDATE or DELETE answers [rows, affected] through TypeORM's query().
  const [, limited] = await manager.query<[unknown[], number]>(
    `UPDATE bindings SET application_ids = array_remove(application_ids, $2) WHERE account_id = $1 AND $2 = ANY(application_ids)`,
    [accountId, applicationId],
  );
  const [, removed] = await manager.query<[unknown[], number]>(`DELETE FROM bindings WHERE account_id = $1 AND application_ids = '{}'`, [accountId]);
  return { narrowed: limited - removed, removed };
}

function view(row: Pick<ApplicationEntity, 'id' | 'name' | 'createdAt'>): ApplicationView {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
}

const applicationNameTaken = conflictOnDuplicate('An application with this name already exists in the account', 'name');
