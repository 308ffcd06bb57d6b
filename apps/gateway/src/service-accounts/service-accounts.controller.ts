import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreatedServiceAccountKeyView,
  CreatedServiceAccountView,
  CreateServiceAccountBody,
  CreateServiceAccountKeyBody,
  PageQuery,
  ServiceAccountKeyView,
  ServiceAccountPageView,
  ServiceAccountView,
  Subjects,
  UpdateServiceAccountBody,
  type Actor,
} from '#libs/contracts/index.js';
import type { Logger } from 'pino';
import { LOGGER, type RelayedJson, type RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, RequestId, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';
import { IdParam } from '../http/id-param.pipe.js';
import { ServiceAccountsComposer } from './service-accounts.composer.js';

/** The service accounts of an account (programs calling the API) and their API keys. */
@ApiTags('service-accounts')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/service-accounts')
export class ServiceAccountsController {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  @Get()
  @RequirePermission('service-accounts', 'read')
  @ApiOperation({ summary: 'The service accounts, by name, with their roles and applications; cursor pages' })
  @ApiOkResponse({ type: ServiceAccountPageView })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Query() query: PageQuery,
  ): Promise<ServiceAccountPageView> {
    return new ServiceAccountsComposer(rpc, this.logger).list(actor, accountId, { ip }, query);
  }

  @Post()
  @RequirePermission('service-accounts', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a service account holding these roles (no escalation: only roles whose permissions you hold); then create a key' })
  @ApiCreatedResponse({ type: CreatedServiceAccountView })
  create(
    @Rpc() rpc: RpcSender,
    @RequestId() requestId: string,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Body() body: CreateServiceAccountBody,
  ): Promise<CreatedServiceAccountView> {
    return new ServiceAccountsComposer(rpc, this.logger.child({ requestId })).create(actor, accountId, { ip }, body);
  }

  @Get(':serviceAccountId')
  @RequirePermission('service-accounts', 'read')
  @ApiOperation({ summary: 'One service account' })
  @ApiOkResponse({ type: ServiceAccountView })
  get(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
  ): Promise<ServiceAccountView> {
    return new ServiceAccountsComposer(rpc, this.logger).get(actor, accountId, { ip }, serviceAccountId);
  }

  @Patch(':serviceAccountId')
  @RequirePermission('service-accounts', 'write')
  @ApiOperation({ summary: 'Edit name, description, active, roles or applications (deactivation refuses its keys and ends its tokens at once)' })
  @ApiOkResponse({ type: ServiceAccountView })
  update(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
    @Body() body: UpdateServiceAccountBody,
  ): Promise<ServiceAccountView> {
    return new ServiceAccountsComposer(rpc, this.logger).update(actor, accountId, { ip }, serviceAccountId, body);
  }

  @Delete(':serviceAccountId')
  @RequirePermission('service-accounts', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the service account: its keys and its tokens stop working at once' })
  @ApiNoContentResponse()
  remove(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
  ): Promise<void> {
    return new ServiceAccountsComposer(rpc, this.logger).remove(actor, accountId, { ip }, serviceAccountId);
  }

  @Get(':serviceAccountId/keys')
  @RequirePermission('service-accounts', 'read')
  @ApiOperation({ summary: 'Its API keys that are not revoked, oldest first: id, hint, created, expires, last used (never a secret)' })
  @ApiOkResponse({ type: ServiceAccountKeyView, isArray: true })
  listKeys(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
  ): Promise<RelayedJson<ServiceAccountKeyView[]>> {
    return rpc.relay(Subjects.ServiceAccountKeysList, { actor, accountId, client: { ip }, serviceAccountId });
  }

  @Post(':serviceAccountId/keys')
  @RequirePermission('service-accounts', 'write')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'A new API key (at most MAX_KEYS_PER_SERVICE_ACCOUNT live, 409 beyond): its secret is in this answer only. Exchange id and secret at POST /v1/auth/token',
  })
  @ApiCreatedResponse({ type: CreatedServiceAccountKeyView })
  createKey(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
    @Body() body: CreateServiceAccountKeyBody,
  ): Promise<CreatedServiceAccountKeyView> {
    return new ServiceAccountsComposer(rpc, this.logger).createKey(actor, accountId, { ip }, serviceAccountId, body);
  }

  @Delete(':serviceAccountId/keys/:keyId')
  @RequirePermission('service-accounts', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the key: it is refused from now on, and the tokens issued for it are refused at once' })
  @ApiNoContentResponse()
  revokeKey(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('serviceAccountId', new IdParam('Service account')) serviceAccountId: string,
    @Param('keyId', new IdParam('Key')) keyId: string,
  ): Promise<void> {
    return new ServiceAccountsComposer(rpc, this.logger).revokeKey(actor, accountId, { ip }, serviceAccountId, keyId);
  }
}
