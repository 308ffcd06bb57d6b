import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, MeAccountRef, RpcResponse, UpdateProfileRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions } from '../database/unit-of-work.js';
import { activeAccountsOf } from '../sessions/principal-state.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { MembershipEntity } from './membership.entity.js';
import { UserEntity } from './user.entity.js';

/** The caller's own profile. */
@Injectable()
export class MeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  /** Profile and the accounts the caller is active in (a subuser: its own account). */
  async get(actor: Actor): Promise<RpcResponse<'identity.me.get'>> {
    if (actor.type === 'subuser') return this.subuser(actor);
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: actor.id });
    if (!user) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in again');
    const accountIds = await this.accountsOf(user.id);
    const { id, firstName, lastName, email, phone, locale } = user;
    return { id, type: 'user', firstName, lastName, email, phone, locale, accountIds };
  }

  /** The caller edits their own name, phone and mail language (they are the person's, across accounts). */
  async update({ actor, body, client }: UpdateProfileRequest): Promise<{ updated: true }> {
    if (actor.type !== 'user') throw new DomainError(ErrorCode.Forbidden, 'Subusers have no personal profile; an admin of the account edits them');
    const changes = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
    await this.transactions.run(async (unit) => {
      await unit.manager.update(UserEntity, { id: actor.id }, changes);
      await this.audit.record(unit.manager, {
        accountIds: await activeAccountsOf(unit.manager, actor),
        action: 'user.updated',
        actor: { type: 'user', id: actor.id },
        target: { type: 'user', id: actor.id },
        ip: client.ip,
        details: { changed: Object.keys(changes) },
      });
    });
    return { updated: true };
  }

  private async subuser(actor: Actor): Promise<RpcResponse<'identity.me.get'>> {
    const subuser = await this.dataSource.getRepository(SubuserEntity).findOneBy({ id: actor.id, active: true });
    if (!subuser) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in again');
    const account = await this.dataSource.getRepository(AccountEntity).findOneByOrFail({ id: subuser.accountId });
    return {
      id: subuser.id,
      type: 'subuser',
      firstName: subuser.login,
      lastName: '',
      email: subuser.email ?? '',
      phone: '',
      login: subuser.login,
      locale: subuser.locale,
      accountIds: [{ accountId: account.id, accountName: account.name, accountSlug: account.slug, requireSecondStep: account.requireSecondStep }],
    };
  }

  private async accountsOf(userId: string): Promise<MeAccountRef[]> {
    return this.dataSource
      .createQueryBuilder(MembershipEntity, 'm')
      .innerJoin(AccountEntity, 'a', 'a.id = m.account_id')
      .select(['a.id AS "accountId"', 'a.name AS "accountName"', 'a.slug AS "accountSlug"', 'a.second_step_required AS "requireSecondStep"'])
      .where('m.user_id = :userId AND m.active', { userId })
      .orderBy('a.name')
      .getRawMany<MeAccountRef>();
  }
}
