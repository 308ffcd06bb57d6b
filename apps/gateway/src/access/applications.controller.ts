import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApplicationBody,
  ApplicationPageView,
  ApplicationView,
  ListApplicationsQuery,
  principalOf,
  Subjects,
  type Actor,
  type Page,
} from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';
import { IdParam } from '../http/id-param.pipe.js';

/** Applications of an account (application-scoped sections apply per application). */
@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/applications')
export class ApplicationsController {
  @Get()
  @RequirePermission('applications', 'read')
  @ApiOperation({ summary: 'A page of the applications the caller may see, by name; `search` keeps the names containing it (case ignored)' })
  @ApiOkResponse({ type: ApplicationPageView })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @Query() query: ListApplicationsQuery,
  ): Promise<RelayedJson<Page<ApplicationView>>> {
    // Without a query, none is sent: access of the previous release (which knows no query) still answers during a rolling upgrade.
    return rpc.relay(Subjects.AccessApplicationsList, { actor: principalOf(actor), accountId, ...(Object.keys(query).length > 0 && { query }) });
  }

  @Post()
  @RequirePermission('applications', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an application' })
  @ApiCreatedResponse({ type: ApplicationView })
  create(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Body() body: ApplicationBody,
  ): Promise<RelayedJson<ApplicationView>> {
    return rpc.relay(Subjects.AccessApplicationsCreate, { actor: principalOf(actor), client: { ip }, accountId, body });
  }

  @Patch(':applicationId')
  @RequirePermission('applications', 'write')
  @ApiOperation({ summary: 'Rename an application' })
  @ApiOkResponse({ type: ApplicationView })
  rename(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Param('applicationId', new IdParam('Application')) applicationId: string,
    @Body() body: ApplicationBody,
  ): Promise<RelayedJson<ApplicationView>> {
    return rpc.relay(Subjects.AccessApplicationsRename, { actor: principalOf(actor), client: { ip }, accountId, applicationId, body });
  }

  @Delete(':applicationId')
  @RequirePermission('applications', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an application; role bindings limited to it lose it' })
  @ApiNoContentResponse()
  async delete(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId') accountId: string,
    @Param('applicationId', new IdParam('Application')) applicationId: string,
  ): Promise<void> {
    await rpc.send(Subjects.AccessApplicationsDelete, { actor: principalOf(actor), client: { ip }, accountId, applicationId });
  }
}
