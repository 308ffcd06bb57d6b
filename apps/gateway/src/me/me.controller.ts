import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MeView, Subjects, type Actor } from '#libs/contracts/index.js';
import { RpcClient } from '#libs/platform/index.js';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { Authenticated } from '../auth/route-policy.js';

/** The caller. */
@ApiTags('me')
@Controller('v1/me')
export class MeController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Authenticated()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The caller: profile and memberships with roles' })
  @ApiOkResponse({ type: MeView })
  async get(@CurrentActor() actor: Actor): Promise<MeView> {
    const { accountIds, ...profile } = await this.rpc.send(Subjects.MeGet, { actor });
    const roles = await this.rpc.send(Subjects.AccessRolesOfPrincipal, {
      principal: { type: actor.type, id: actor.id },
      accountIds: accountIds.map((a) => a.accountId),
    });
    const memberships = accountIds.map((account) => ({
      ...account,
      roles: roles[account.accountId]?.roles ?? [],
      owner: roles[account.accountId]?.owner ?? false,
    }));
    return { ...profile, memberships };
  }
}
