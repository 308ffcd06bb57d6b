import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditFeedPageView, AuditFeedQuery, AuditPageView, AuditQuery, Subjects, type Actor } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';

/** The audit trail of an account. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/audit-events')
export class AuditController {
  @Get()
  @RequirePermission('audit', 'read')
  @ApiOperation({ summary: 'Who did what to whom, when, from which address; newest first, filterable' })
  @ApiOkResponse({ type: AuditPageView })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Query() query: AuditQuery,
  ): Promise<RelayedJson<AuditPageView>> {
    return rpc.relay(Subjects.AuditList, { actor, accountId, client: { ip }, query });
  }

  @Get('feed')
  @RequirePermission('audit', 'read')
  @ApiOperation({
    summary:
      'Every event oldest first, in an order no later commit slips behind: read on from nextCursor to copy the trail elsewhere (a SIEM) without missing one',
  })
  @ApiOkResponse({ type: AuditFeedPageView })
  feed(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @ClientIp() ip: string,
    @Query() query: AuditFeedQuery,
  ): Promise<RelayedJson<AuditFeedPageView>> {
    return rpc.relay(Subjects.AuditFeed, { actor, accountId, client: { ip }, query });
  }
}
