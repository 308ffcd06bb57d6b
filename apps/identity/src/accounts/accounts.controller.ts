import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreateAccountBody, GetAccountRequest, Subjects, TransferOwnershipRequest, type AccountView } from '#libs/contracts/index.js';
import { AccountsService } from './accounts.service.js';

/** NATS handlers for accounts. */
@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(Subjects.AccountsCreate)
  create(@Payload() body: CreateAccountBody): Promise<AccountView> {
    return this.accounts.create(body);
  }

  @MessagePattern(Subjects.AccountsTransferOwnership)
  transferOwnership(@Payload() request: TransferOwnershipRequest): Promise<AccountView> {
    return this.accounts.transferOwnership(request);
  }

  @MessagePattern(Subjects.AccountsGet)
  get(@Payload() request: GetAccountRequest): Promise<AccountView> {
    return this.accounts.get(request.actor, request.accountId);
  }
}
