import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AcceptedView,
  ChangeEmailBody,
  ChangePasswordBody,
  ConfirmTotpBody,
  InvitationAcceptedView,
  InvitationView,
  MeView,
  MfaStatusView,
  RecoveryCodesView,
  SecondFactorChangeBody,
  StartTotpBody,
  TotpEnrolmentView,
  principalOf,
  SessionView,
  Subjects,
  UpdateProfileBody,
  type Actor,
} from '#libs/contracts/index.js';
import { LOGGER, type RelayedJson, type RpcSender } from '#libs/platform/index.js';
import { ClientIp, CurrentActor, Rpc } from '../auth/current-actor.decorator.js';
import { Authenticated } from '../auth/route-policy.js';
import { IdParam } from '../http/id-param.pipe.js';
import { dropDeclined } from './invitations.js';
import { leaveAccount } from './leaving.js';

/** The caller. */
@ApiTags('me')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The caller: profile and memberships with roles' })
  @ApiOkResponse({ type: MeView })
  async get(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor): Promise<MeView> {
    const { accountIds, ...profile } = await rpc.send(Subjects.MeGet, { actor });
    const roles = await rpc.send(Subjects.AccessRolesOfPrincipal, {
      principal: principalOf(actor),
      accountIds: accountIds.map((a) => a.accountId),
    });
    const memberships = accountIds.map((account) => ({
      ...account,
      roles: roles[account.accountId]?.roles ?? [],
      owner: roles[account.accountId]?.owner ?? false,
    }));
    return { ...profile, memberships };
  }

  @Patch()
  @Authenticated()
  @ApiOperation({ summary: 'Edit your own name, phone and the language of your mails; answers what GET /v1/me answers after the edit' })
  @ApiOkResponse({ type: MeView })
  async update(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: UpdateProfileBody): Promise<MeView> {
    await rpc.send(Subjects.MeUpdate, { actor, client: { ip }, body });
    return this.get(rpc, actor);
  }

  @Post('password')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: 'Change your password (the current one is required); your other sessions end' })
  @ApiNoContentResponse()
  async changePassword(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: ChangePasswordBody): Promise<void> {
    await rpc.send(Subjects.MePasswordChange, { actor, client: { ip }, body });
  }

  @Post('email')
  @Authenticated()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Move your login to another e-mail (the current password is required): a link to confirm goes to the new address, the same answer whether or not it already has a login',
  })
  @ApiAcceptedResponse({ type: AcceptedView })
  changeEmail(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: ChangeEmailBody): Promise<RelayedJson<AcceptedView>> {
    return rpc.relay(Subjects.MeEmailChange, { actor, client: { ip }, body });
  }

  @Get('mfa')
  @Authenticated()
  @ApiOperation({ summary: 'Whether your sign-in takes a second step (an authenticator app), and how many recovery codes are left' })
  @ApiOkResponse({ type: MfaStatusView })
  mfaStatus(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<RelayedJson<MfaStatusView>> {
    return rpc.relay(Subjects.MeMfaStatus, { actor, client: { ip } });
  }

  @Post('mfa/totp')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start setting up an authenticator app (the current password is required): its secret, and a URI for a QR code. 409 while one is on',
  })
  @ApiOkResponse({ type: TotpEnrolmentView })
  startTotp(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: StartTotpBody): Promise<RelayedJson<TotpEnrolmentView>> {
    return rpc.relay(Subjects.MeMfaTotpStart, { actor, client: { ip }, body });
  }

  @Post('mfa/totp/confirm')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the authenticator with the code it shows: two-step sign-in is on. Answers recovery codes, shown this once' })
  @ApiOkResponse({ type: RecoveryCodesView })
  confirmTotp(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Body() body: ConfirmTotpBody,
  ): Promise<RelayedJson<RecoveryCodesView>> {
    return rpc.relay(Subjects.MeMfaTotpConfirm, { actor, client: { ip }, body });
  }

  @Post('mfa/disable')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn two-step sign-in off: the current password and a code (from the app, or a recovery code) are required' })
  @ApiNoContentResponse()
  async disableMfa(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: SecondFactorChangeBody): Promise<void> {
    await rpc.send(Subjects.MeMfaDisable, { actor, client: { ip }, body });
  }

  @Post('mfa/recovery-codes')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace every recovery code by a new set, shown this once: the current password and a code are required' })
  @ApiOkResponse({ type: RecoveryCodesView })
  renewRecoveryCodes(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Body() body: SecondFactorChangeBody,
  ): Promise<RelayedJson<RecoveryCodesView>> {
    return rpc.relay(Subjects.MeMfaRecoveryCodesRenew, { actor, client: { ip }, body });
  }

  @Get('sessions')
  @Authenticated()
  @ApiOperation({ summary: 'Your open sessions' })
  @ApiOkResponse({ type: [SessionView] })
  sessions(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<RelayedJson<SessionView[]>> {
    return rpc.relay(Subjects.MeSessionsList, { actor, client: { ip } });
  }

  @Delete('sessions/:sessionId')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: 'End one of your sessions' })
  @ApiNoContentResponse()
  async endSession(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('sessionId', new IdParam('Session')) sessionId: string,
  ): Promise<void> {
    await rpc.send(Subjects.MeSessionsEnd, { actor, client: { ip }, sessionId });
  }

  @Delete('memberships/:accountId')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Leave an account: your roles there go, and so does your access to it at once (the owner hands the account over first: 409)',
  })
  @ApiNoContentResponse()
  async leave(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId', new IdParam('Account')) accountId: string,
  ): Promise<void> {
    await leaveAccount(rpc, actor, accountId, ip, this.logger);
  }

  @Delete('sessions')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session but this one' })
  endOtherSessions(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<RelayedJson<{ ended: number }>> {
    return rpc.relay(Subjects.MeSessionsEndOthers, { actor, client: { ip } });
  }

  @Get('invitations')
  @Authenticated()
  @ApiOperation({ summary: "Accounts' invitations waiting for your answer (you already had a login when they added you)" })
  @ApiOkResponse({ type: [InvitationView] })
  invitations(@Rpc() rpc: RpcSender, @CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<RelayedJson<InvitationView[]>> {
    return rpc.relay(Subjects.MeInvitationsList, { actor, client: { ip } });
  }

  @Post('invitations/:accountId/accept')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: "Accept an account's invitation: you work in it from now on, as its admins set (its invitation links stop working)" })
  @ApiOkResponse({ type: InvitationAcceptedView })
  acceptInvitation(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId', new IdParam('Invitation')) accountId: string,
  ): Promise<RelayedJson<InvitationAcceptedView>> {
    return rpc.relay(Subjects.MeInvitationAccept, { actor, accountId, client: { ip } });
  }

  @Delete('invitations/:accountId')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: "Decline an account's invitation: you are taken out of the account (an account open sign-up made for you is closed)" })
  @ApiNoContentResponse()
  async declineInvitation(
    @Rpc() rpc: RpcSender,
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('accountId', new IdParam('Invitation')) accountId: string,
  ): Promise<void> {
    await dropDeclined(rpc, await rpc.send(Subjects.MeInvitationDecline, { actor, accountId, client: { ip } }), this.logger);
  }
}
