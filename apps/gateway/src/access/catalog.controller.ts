import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogView, Subjects } from '#libs/contracts/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { Rpc } from '../auth/current-actor.decorator.js';
import { Authenticated } from '../auth/route-policy.js';

/** The section catalogue. */
@ApiTags('access')
@Controller('v1/sections')
export class CatalogController {
  @Get()
  @Authenticated()
  @ApiBearerAuth()
  @ApiOperation({ summary: "The panel's sections, their scope and actions" })
  @ApiOkResponse({ type: CatalogView })
  get(@Rpc() rpc: RpcSender): Promise<RelayedJson<CatalogView>> {
    return rpc.relay(Subjects.AccessCatalogGet, {});
  }
}
