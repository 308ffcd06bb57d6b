import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ClientCredentialsRequest,
  CreateServiceAccountKeyRequest,
  CreateServiceAccountRequest,
  ListServiceAccountsRequest,
  ServiceAccountKeyRequest,
  ServiceAccountRequest,
  Subjects,
  UpdateServiceAccountRequest,
  type RpcResponse,
} from '#libs/contracts/index.js';
import { ServiceAccountKeysService } from './service-account-keys.service.js';
import { ServiceAccountsService } from './service-accounts.service.js';
import { TokenExchangeService } from './token-exchange.service.js';

/** NATS handlers for the service accounts of an account, their keys, and the exchange of a key for a token. */
@Controller()
export class ServiceAccountsController {
  constructor(
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly keys: ServiceAccountKeysService,
    private readonly exchange: TokenExchangeService,
  ) {}

  @MessagePattern(Subjects.ServiceAccountsList)
  list(@Payload() request: ListServiceAccountsRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountsList>> {
    return this.serviceAccounts.list(request);
  }

  @MessagePattern(Subjects.ServiceAccountsGet)
  get(@Payload() request: ServiceAccountRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountsGet>> {
    return this.serviceAccounts.get(request);
  }

  @MessagePattern(Subjects.ServiceAccountsCreate)
  create(@Payload() request: CreateServiceAccountRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountsCreate>> {
    return this.serviceAccounts.create(request);
  }

  @MessagePattern(Subjects.ServiceAccountsUpdate)
  update(@Payload() request: UpdateServiceAccountRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountsUpdate>> {
    return this.serviceAccounts.update(request);
  }

  @MessagePattern(Subjects.ServiceAccountsRemove)
  remove(@Payload() request: ServiceAccountRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountsRemove>> {
    return this.serviceAccounts.remove(request);
  }

  @MessagePattern(Subjects.ServiceAccountKeysList)
  listKeys(@Payload() request: ServiceAccountRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountKeysList>> {
    return this.keys.list(request);
  }

  @MessagePattern(Subjects.ServiceAccountKeysCreate)
  createKey(@Payload() request: CreateServiceAccountKeyRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountKeysCreate>> {
    return this.keys.create(request);
  }

  @MessagePattern(Subjects.ServiceAccountKeysRevoke)
  revokeKey(@Payload() request: ServiceAccountKeyRequest): Promise<RpcResponse<typeof Subjects.ServiceAccountKeysRevoke>> {
    return this.keys.revoke(request);
  }

  @MessagePattern(Subjects.AuthToken)
  token(@Payload() request: ClientCredentialsRequest): Promise<RpcResponse<typeof Subjects.AuthToken>> {
    return this.exchange.exchange(request);
  }
}
