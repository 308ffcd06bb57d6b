import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, PickType } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { AccessClient } from '#libs/access-client/access-client.js';
import { CheckRequest, IsUuid, PermissionsView, principalOf, Subjects, type Actor } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';

/** `?applicationId=` of the permissions route. */
class PermissionsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUuid()
  applicationId?: string;
}

/** `POST /v1/accounts/{id}/access/check`: a question about the caller (the fields of a check, without principal and account). */
class CheckBody extends PickType(CheckRequest, ['section', 'action', 'applicationId'] as const) {}

/** The answer of an access check. */
class AllowedView {
  @ApiProperty() allowed: boolean;
}

/** The caller's own rights in an account. */
@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId')
export class PermissionsController {
  @Get('permissions')
  @RequirePermission('account', 'read')
  @ApiOperation({ summary: "The caller's effective permissions (in one application, if given), for menus" })
  @ApiOkResponse({ type: PermissionsView })
  permissions(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @Query() query: PermissionsQuery,
  ): Promise<RelayedJson<PermissionsView>> {
    const { applicationId } = query;
    // Asked on every page of a panel (menus): access's answer is relayed as it came.
    return rpc.relay(Subjects.AccessPermissionsEffective, { principal: principalOf(actor), accountId, ...(applicationId && { applicationId }) });
  }

  @Post('access/check')
  @RequirePermission('account', 'read')
  @HttpCode(200)
  @ApiOperation({ summary: 'May the caller do this action on this section (in this application)?' })
  @ApiOkResponse({ type: AllowedView })
  async check(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @Param('accountId') accountId: string, @Body() body: CheckBody): Promise<AllowedView> {
    const { allowed } = await new AccessClient(rpc).check({ principal: principalOf(actor), accountId, ...body });
    return { allowed };
  }
}
