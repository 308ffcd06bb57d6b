import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AcceptedView, CreatedView, CreateUserBody, ListUsersQuery, UpdateUserBody, UserPageView, UserView, type Actor } from '#libs/contracts/index.js';
import type { Logger } from 'pino';
import { LOGGER, type RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, RequestId, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';
import { IdParam } from '../http/id-param.pipe.js';
import { UsersComposer } from './users.composer.js';

/** The user table of an account. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/users')
export class UsersController {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  @Get()
  @RequirePermission('members', 'read')
  @ApiOperation({ summary: 'The user table: search (>= 3 characters: name, e-mail, phone), filter by status, active and role, sort, cursor pages' })
  @ApiOkResponse({ type: UserPageView })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Query() query: ListUsersQuery,
  ): Promise<UserPageView> {
    return new UsersComposer(rpc, this.logger).list(actor, accountId, { ip }, query);
  }

  @Post()
  @RequirePermission('members', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Invite a new person (activation mail) or add a person who has a login ("added" mail); same answer either way' })
  @ApiCreatedResponse({ type: CreatedView })
  create(
    @Rpc() rpc: RpcSender,
    @RequestId() requestId: string,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Body() body: CreateUserBody,
  ): Promise<CreatedView> {
    return new UsersComposer(rpc, this.logger.child({ requestId })).create(actor, accountId, { ip }, body);
  }

  @Get(':userId')
  @RequirePermission('members', 'read')
  @ApiOperation({ summary: 'One person of the account' })
  @ApiOkResponse({ type: UserView })
  get(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<UserView> {
    return new UsersComposer(rpc, this.logger).get(actor, accountId, { ip }, userId);
  }

  @Patch(':userId')
  @RequirePermission('members', 'write')
  @ApiOperation({ summary: 'Edit name, phone, role or active; an inactive person loses access to the account at once' })
  @ApiOkResponse({ type: UserView })
  update(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
    @Body() body: UpdateUserBody,
  ): Promise<UserView> {
    return new UsersComposer(rpc, this.logger).update(actor, accountId, { ip }, userId, body);
  }

  @Delete(':userId')
  @RequirePermission('members', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the person from the account' })
  @ApiNoContentResponse()
  remove(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<void> {
    return new UsersComposer(rpc, this.logger).remove(actor, accountId, { ip }, userId);
  }

  @Post(':userId/invitation')
  @RequirePermission('members', 'write')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a pending person a new activation link (the previous one stops working)' })
  @ApiAcceptedResponse({ type: AcceptedView })
  resendInvitation(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<AcceptedView> {
    return new UsersComposer(rpc, this.logger).resendInvitation(actor, accountId, { ip }, userId);
  }

  @Delete(':userId/invitation')
  @RequirePermission('members', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a pending invitation: the link stops working and the person leaves the account' })
  @ApiNoContentResponse()
  revokeInvitation(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<void> {
    return new UsersComposer(rpc, this.logger).revokeInvitation(actor, accountId, { ip }, userId);
  }

  @Post(':userId/password-reset')
  @RequirePermission('members', 'write')
  @HttpCode(202)
  @ApiOperation({ summary: '"Send email": the person receives a reset link (admins never see or set passwords)' })
  @ApiAcceptedResponse({ type: AcceptedView })
  sendPasswordReset(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<AcceptedView> {
    return new UsersComposer(rpc, this.logger).sendPasswordReset(actor, accountId, { ip }, userId);
  }

  @Delete(':userId/sessions')
  @RequirePermission('members', 'write')
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session of the person (their access tokens are refused at once)' })
  endSessions(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('userId', new IdParam('User')) userId: string,
  ): Promise<{ ended: number }> {
    return new UsersComposer(rpc, this.logger).endSessions(actor, accountId, { ip }, userId);
  }
}
