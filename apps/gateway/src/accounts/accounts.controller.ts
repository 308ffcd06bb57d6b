import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountView, CreateAccountBody, Subjects, TransferOwnershipBody, UpdateAccountBody, type Actor } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { Public, RequirePermission } from '../auth/route-policy.js';
import { transferOwnership } from './ownership.js';

/** Accounts (tenants). */
@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  @Post()
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account and its owner; the owner receives an activation mail (429 when one address signs up too often)' })
  @ApiCreatedResponse({ type: AccountView })
  create(@Rpc() rpc: RpcSender, @ClientIp() ip: string, @Body() body: CreateAccountBody): Promise<RelayedJson<AccountView>> {
    return rpc.relay(Subjects.AccountsSignUp, { client: { ip }, body });
  }

  @Get(':accountId')
  @RequirePermission('account', 'read')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Read an account' })
  @ApiOkResponse({ type: AccountView })
  get(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @Param('accountId') accountId: string): Promise<RelayedJson<AccountView>> {
    return rpc.relay(Subjects.AccountsGet, { actor, accountId });
  }

  @Patch(':accountId')
  @RequirePermission('account', 'write')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Rename the account, change the language of its mails, or require two-step sign-in of everyone in it (the slug, in subusers' sign-in, stays)",
  })
  @ApiOkResponse({ type: AccountView })
  update(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Body() body: UpdateAccountBody,
  ): Promise<RelayedJson<AccountView>> {
    return rpc.relay(Subjects.AccountsUpdate, { actor, accountId, client: { ip }, body });
  }

  @Post(':accountId/owner')
  @RequirePermission('account', 'write')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The owner hands the account to another active member, keeping a role of their choice' })
  @ApiOkResponse({ type: AccountView })
  transferOwnership(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Body() body: TransferOwnershipBody,
  ): Promise<AccountView> {
    return transferOwnership(rpc, actor, accountId, ip, body);
  }
}
