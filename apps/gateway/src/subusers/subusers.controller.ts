import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AcceptedView,
  CreatedSubuserView,
  CreateSubuserBody,
  ListSubusersQuery,
  SessionView,
  Subjects,
  SubuserPageView,
  SubuserView,
  UpdateSubuserBody,
  type Actor,
} from '#libs/contracts/index.js';
import type { Logger } from 'pino';
import { LOGGER, type RelayedJson, type RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, RequestId, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';
import { IdParam } from '../http/id-param.pipe.js';
import { SubusersComposer } from './subusers.composer.js';

/** The subusers of an account (they sign in on its own login page). */
@ApiTags('subusers')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/subusers')
export class SubusersController {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  @Get()
  @RequirePermission('subusers', 'read')
  @ApiOperation({ summary: 'The subusers, by login: search (>= 3 characters: login, e-mail, description), filter by status, active and role, cursor pages' })
  @ApiOkResponse({ type: SubuserPageView })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Query() query: ListSubusersQuery,
  ): Promise<SubuserPageView> {
    return new SubusersComposer(rpc, this.logger).list(actor, accountId, { ip }, query);
  }

  @Post()
  @RequirePermission('subusers', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a subuser: with a password, or an activation mail to its e-mail' })
  @ApiCreatedResponse({ type: CreatedSubuserView })
  create(
    @Rpc() rpc: RpcSender,
    @RequestId() requestId: string,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Body() body: CreateSubuserBody,
  ): Promise<CreatedSubuserView> {
    return new SubusersComposer(rpc, this.logger.child({ requestId })).create(actor, accountId, { ip }, body);
  }

  @Get(':subuserId')
  @RequirePermission('subusers', 'read')
  @ApiOperation({ summary: 'One subuser' })
  @ApiOkResponse({ type: SubuserView })
  get(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<SubuserView> {
    return new SubusersComposer(rpc, this.logger).get(actor, accountId, { ip }, subuserId);
  }

  @Patch(':subuserId')
  @RequirePermission('subusers', 'write')
  @ApiOperation({ summary: 'Edit roles, applications, description, active, e-mail or password (a new password or deactivation ends its sessions)' })
  @ApiOkResponse({ type: SubuserView })
  update(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
    @Body() body: UpdateSubuserBody,
  ): Promise<SubuserView> {
    return new SubusersComposer(rpc, this.logger).update(actor, accountId, { ip }, subuserId, body);
  }

  @Delete(':subuserId')
  @RequirePermission('subusers', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the subuser (its sessions end at once)' })
  @ApiNoContentResponse()
  remove(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<void> {
    return new SubusersComposer(rpc, this.logger).remove(actor, accountId, { ip }, subuserId);
  }

  @Post(':subuserId/invitation')
  @RequirePermission('subusers', 'write')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a pending subuser a new activation link (the previous one stops working)' })
  @ApiAcceptedResponse({ type: AcceptedView })
  resendInvitation(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<AcceptedView> {
    return new SubusersComposer(rpc, this.logger).resendInvitation(actor, accountId, { ip }, subuserId);
  }

  @Post(':subuserId/password-reset')
  @RequirePermission('subusers', 'write')
  @HttpCode(202)
  @ApiOperation({ summary: "Send a reset link to the subuser's e-mail" })
  @ApiAcceptedResponse({ type: AcceptedView })
  sendPasswordReset(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<AcceptedView> {
    return new SubusersComposer(rpc, this.logger).sendPasswordReset(actor, accountId, { ip }, subuserId);
  }

  @Delete(':subuserId/mfa')
  @RequirePermission('subusers', 'write')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Turn the subuser's two-step sign-in off (its authenticator is lost): it signs in with its password alone until it sets one up again; 409 when it is off",
  })
  @ApiNoContentResponse()
  async resetSecondStep(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<void> {
    await new SubusersComposer(rpc, this.logger).resetSecondStep(actor, accountId, { ip }, subuserId);
  }

  @Get(':subuserId/sessions')
  @RequirePermission('subusers', 'read')
  @ApiOperation({ summary: "The subuser's open sessions, newest first: from which client and address, when opened and last used" })
  @ApiOkResponse({ type: SessionView, isArray: true })
  listSessions(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<RelayedJson<SessionView[]>> {
    return rpc.relay(Subjects.SubusersSessionsList, { actor, accountId, client: { ip }, subuserId });
  }

  @Delete(':subuserId/sessions')
  @RequirePermission('subusers', 'write')
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session of the subuser' })
  endSessions(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Param('subuserId', new IdParam('Subuser')) subuserId: string,
  ): Promise<{ ended: number }> {
    return new SubusersComposer(rpc, this.logger).endSessions(actor, accountId, { ip }, subuserId);
  }
}
