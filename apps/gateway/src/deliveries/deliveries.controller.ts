import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeliveryPage, ListDeliveriesQuery, Subjects, type Actor } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { RequirePermission } from '../auth/route-policy.js';

/** The mail delivery log. */
@ApiTags('deliveries')
@Controller('v1/accounts/:accountId/deliveries')
export class DeliveriesController {
  @Get()
  @RequirePermission('deliveries', 'read')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The account's mail delivery log, newest first",
    description:
      'Recipients are masked (a***@example.com) unless the caller may also read members. The line of a mail done is deleted DELIVERY_RETENTION_DAYS (30 by default) after the mail was recorded.',
  })
  @ApiOkResponse({ type: DeliveryPage })
  list(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @Param('accountId') accountId: string,
    @Query() query: ListDeliveriesQuery,
  ): Promise<RelayedJson<DeliveryPage>> {
    return rpc.relay(Subjects.DeliveriesList, { ...query, actor, accountId });
  }
}
