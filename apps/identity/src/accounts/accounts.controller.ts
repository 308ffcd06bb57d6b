import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CreateAccountBody,
  CreateAccountRequest,
  GetAccountRequest,
  Subjects,
  TransferOwnershipRequest,
  UpdateAccountRequest,
  type AccountView,
} from '#libs/contracts/index.js';
import { AccountsService } from './accounts.service.js';
import { SignUpService } from './sign-up.service.js';

/** NATS handlers for accounts. */
@Controller()
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly signUps: SignUpService,
  ) {}

  @MessagePattern(Subjects.AccountsSignUp)
  signUp(@Payload() { client, body }: CreateAccountRequest): Promise<AccountView> {
    return this.signUps.create(body, client);
  }

  /** @deprecated A gateway of the previous release (see {@link Subjects.AccountsCreate}); goes in the next release. */
  @MessagePattern(Subjects.AccountsCreate)
  create(@Payload() body: CreateAccountBody): Promise<AccountView> {
    return this.signUps.create(body, null);
  }

  @MessagePattern(Subjects.AccountsTransferOwnership)
  transferOwnership(@Payload() request: TransferOwnershipRequest): Promise<AccountView> {
    return this.accounts.transferOwnership(request);
  }

  @MessagePattern(Subjects.AccountsUpdate)
  update(@Payload() request: UpdateAccountRequest): Promise<AccountView> {
    return this.accounts.update(request);
  }

  @MessagePattern(Subjects.AccountsGet)
  get(@Payload() request: GetAccountRequest): Promise<AccountView> {
    return this.accounts.get(request.actor, request.accountId);
  }
}
