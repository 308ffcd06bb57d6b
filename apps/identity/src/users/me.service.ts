import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, MeAccountRef, RpcResponse } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { MembershipEntity } from './membership.entity.js';
import { UserEntity } from './user.entity.js';

/** The caller's own profile. */
@Injectable()
export class MeService {
  constructor(private readonly dataSource: DataSource) {}

  /** Profile and the accounts the caller is an active member of. */
  async get(actor: Actor): Promise<RpcResponse<'identity.me.get'>> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: actor.id });
    if (actor.type !== 'user' || !user) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in again');
    const accountIds = await this.accountsOf(user.id);
    return { id: user.id, type: 'user', firstName: user.firstName, lastName: user.lastName, email: user.email, phone: user.phone, accountIds };
  }

  private async accountsOf(userId: string): Promise<MeAccountRef[]> {
    const rows = await this.dataSource
      .createQueryBuilder(MembershipEntity, 'm')
      .innerJoin(AccountEntity, 'a', 'a.id = m.account_id')
      .select(['a.id AS "accountId"', 'a.name AS "accountName"', 'a.slug AS "accountSlug"'])
      .where('m.user_id = :userId AND m.active', { userId })
      .orderBy('a.name')
      .getRawMany<MeAccountRef>();
    return rows;
  }
}
