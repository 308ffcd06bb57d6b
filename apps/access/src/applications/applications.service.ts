import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { conflictOnDuplicate } from '#libs/platform/index.js';
import type {
  ApplicationView,
  CreateApplicationRequest,
  DeleteApplicationRequest,
  ListApplicationsRequest,
  Principal,
  RenameApplicationRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { DecisionStore } from '../checks/decision-store.js';
import { isEmpty } from '../checks/permission-index.js';
import { AccessStateService } from '../state/access-state.service.js';
import { ApplicationEntity } from './application.entity.js';

/** An account's applications. A principal limited to some applications sees only those. */
@Injectable()
export class ApplicationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: DecisionStore,
    private readonly state: AccessStateService,
  ) {}

  /** The applications the actor may see, by name. */
  async list({ actor, accountId }: ListApplicationsRequest): Promise<ApplicationView[]> {
    const rows = await this.repository().find({ where: { accountId }, order: { name: 'ASC' } });
    return rows.filter((row) => this.visible(actor, accountId, row.id)).map(view);
  }

  /** A new application. */
  async create({ accountId, body }: CreateApplicationRequest): Promise<ApplicationView> {
    const row = { id: randomUUID(), accountId, name: body.name, createdAt: new Date() };
    await this.state.mutate(accountId, (manager) => manager.getRepository(ApplicationEntity).insert(row).catch(applicationNameTaken));
    return view(row);
  }

  /** Renames an application the actor can see. */
  async rename({ actor, accountId, applicationId, body }: RenameApplicationRequest): Promise<ApplicationView> {
    const row = await this.state.mutate(accountId, async (manager) => {
      const found = await this.visibleRow(manager, actor, accountId, applicationId);
      await manager.getRepository(ApplicationEntity).update({ id: found.id, accountId }, { name: body.name }).catch(applicationNameTaken);
      return found;
    });
    return view({ ...row, name: body.name });
  }

  /** Deletes an application; bindings limited to it lose it (and go when nothing is left of them). */
  async delete({ actor, accountId, applicationId }: DeleteApplicationRequest): Promise<{ deleted: true }> {
    await this.state.mutate(accountId, async (manager) => {
      await this.visibleRow(manager, actor, accountId, applicationId);
      await manager.query(`UPDATE bindings SET application_ids = array_remove(application_ids, $2) WHERE account_id = $1 AND $2 = ANY(application_ids)`, [
        accountId,
        applicationId,
      ]);
      await manager.query(`DELETE FROM bindings WHERE account_id = $1 AND application_ids = '{}'`, [accountId]);
      await manager.delete(ApplicationEntity, { id: applicationId, accountId });
    });
    return { deleted: true };
  }

  private async visibleRow(manager: EntityManager, actor: Principal, accountId: string, applicationId: string): Promise<ApplicationEntity> {
    const row = await manager.getRepository(ApplicationEntity).findOneBy({ id: applicationId, accountId });
    if (!row || !this.visible(actor, accountId, applicationId)) throw new DomainError(ErrorCode.NotFound, 'Application not found');
    return row;
  }

  private visible(actor: Principal, accountId: string, applicationId: string): boolean {
    const effective = this.store.effective(actor, accountId);
    if (!effective) return false;
    const limited = effective.perApplication.get(applicationId);
    return !isEmpty(effective.unlimited) || (limited !== undefined && !isEmpty(limited));
  }

  private repository() {
    return this.dataSource.getRepository(ApplicationEntity);
  }
}

function view(row: Pick<ApplicationEntity, 'id' | 'name' | 'createdAt'>): ApplicationView {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
}

const applicationNameTaken = conflictOnDuplicate('An application with this name already exists in the account', 'name');
