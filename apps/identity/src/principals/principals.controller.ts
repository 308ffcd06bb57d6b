import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { DescribePrincipalsRequest, Subjects, type RpcResponse } from '#libs/contracts/index.js';
import { accountOfActor } from '../accounts/account-scope.js';
import { describePrincipals } from './principal-descriptions.js';

/** NATS handler naming an account's principals for lists composed elsewhere (a role's holders). */
@Controller()
export class PrincipalsController {
  constructor(private readonly dataSource: DataSource) {}

  @MessagePattern(Subjects.PrincipalsDescribe)
  async describe(@Payload() request: DescribePrincipalsRequest): Promise<RpcResponse<typeof Subjects.PrincipalsDescribe>> {
    await accountOfActor(this.dataSource.manager, request.actor, request.accountId);
    return { items: await describePrincipals(this.dataSource.manager, request.accountId, request.principals) };
  }
}
