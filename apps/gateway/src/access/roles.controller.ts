import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CreateRoleBody, PageQuery, principalOf, RoleHolderPageView, RoleView, Subjects, UpdateRoleBody, type Actor } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { DecisionCache } from '../auth/decision-cache.js';
import { RequirePermission } from '../auth/route-policy.js';
import { RoleIdParam } from '../http/id-param.pipe.js';
import { namedRoleHolders } from './role-holders.js';

/** Built-in and custom roles of an account. */
@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/roles')
export class RolesController {
  constructor(private readonly decisions: DecisionCache) {}

  @Get()
  @RequirePermission('roles', 'read')
  @ApiOperation({ summary: 'Built-in roles (read-only) and the custom roles of the account' })
  @ApiOkResponse({ type: [RoleView] })
  list(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @Param('accountId') accountId: string): Promise<RelayedJson<RoleView[]>> {
    return rpc.relay(Subjects.AccessRolesList, { actor: principalOf(actor), accountId });
  }

  @Get(':roleId')
  @RequirePermission('roles', 'read')
  @ApiOperation({ summary: "One role, built-in (`builtin:<Name>`) or custom (its id), as the list shows it; 404 for a name or another account's role" })
  @ApiOkResponse({ type: RoleView })
  get(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @Param('roleId', RoleIdParam) roleId: string,
  ): Promise<RelayedJson<RoleView>> {
    return rpc.relay(Subjects.AccessRolesGet, { actor: principalOf(actor), accountId, roleId });
  }

  @Get(':roleId/holders')
  @RequirePermission('roles', 'read')
  @ApiOperation({
    summary:
      'A page of the principals holding the role (those its `holders` counts; never the owner, who holds no bindings), by type then id; named where the caller may read people (members:read) or subusers (subusers:read)',
  })
  @ApiOkResponse({ type: RoleHolderPageView })
  holders(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @Param('roleId', RoleIdParam) roleId: string,
    @ClientIp() ip: string,
    @Query() query: PageQuery,
  ): Promise<RoleHolderPageView> {
    return namedRoleHolders(rpc, this.decisions, actor, { ip }, accountId, roleId, query);
  }

  @Post()
  @RequirePermission('roles', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a custom role, from grants or cloned from another role (`from`)' })
  @ApiCreatedResponse({ type: RoleView })
  create(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Body() body: CreateRoleBody,
  ): Promise<RelayedJson<RoleView>> {
    return rpc.relay(Subjects.AccessRolesCreate, { actor: principalOf(actor), client: { ip }, accountId, body });
  }

  @Patch(':roleId')
  @RequirePermission('roles', 'write')
  @ApiOperation({ summary: 'Rename a custom role or change its grants (effective at once for every holder)' })
  @ApiOkResponse({ type: RoleView })
  update(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Param('roleId', RoleIdParam) roleId: string,
    @Body() body: UpdateRoleBody,
  ): Promise<RelayedJson<RoleView>> {
    return rpc.relay(Subjects.AccessRolesUpdate, { actor: principalOf(actor), client: { ip }, accountId, roleId, body });
  }

  @Delete(':roleId')
  @RequirePermission('roles', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a custom role (409 while anyone holds it)' })
  @ApiNoContentResponse()
  async delete(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Param('roleId', RoleIdParam) roleId: string,
  ): Promise<void> {
    await rpc.send(Subjects.AccessRolesDelete, { actor: principalOf(actor), client: { ip }, accountId, roleId });
  }
}
