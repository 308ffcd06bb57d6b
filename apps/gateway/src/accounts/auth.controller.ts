import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiAcceptedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import {
  AcceptedView,
  ActivateBody,
  LinkTokenBody,
  EmailChangedView,
  InvitationAcceptedView,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RefreshTokenBody,
  SecondStepBody,
  SecondStepView,
  Subjects,
  SubuserLoginBody,
  SubuserPasswordResetBody,
  TokenPairView,
} from '#libs/contracts/index.js';
import { LOGGER, type RelayedJson, type RpcSender } from '#libs/platform/index.js';
import { dropDeclined } from '../me/invitations.js';
import { ClientIp, Rpc, SessionRpc } from '../auth/current-actor.decorator.js';
import { Public } from '../auth/route-policy.js';

/** What a password step answers: tokens, or (an authenticator on) the second step to take. */
const SIGNED_IN_OR_SECOND_STEP = {
  description: 'A token pair; or, when the login has two-step sign-in on, `{ mfaRequired: true, challenge }` to send with a code to /v1/auth/mfa',
  schema: { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(SecondStepView) }] },
};

/** Activation, sign-in (with its second step), tokens, password reset, confirming a new login e-mail, and answering an account's invitation. */
@ApiTags('auth')
@ApiExtraModels(TokenPairView, SecondStepView)
@Controller('v1/auth')
export class AuthController {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  @Post('activate')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Set the first password with the token from the activation mail (users and subusers)' })
  @ApiNoContentResponse()
  async activate(@Rpc() rpc: RpcSender, @Body() body: ActivateBody, @ClientIp() ip: string): Promise<void> {
    await rpc.send(Subjects.AuthActivate, { body, client: { ip } });
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Sign in with e-mail and password (401 alike for unknown e-mails; 429 when throttled; 423 SECOND_STEP_BLOCKED for the right password while the second step is blocked)',
  })
  @ApiOkResponse(SIGNED_IN_OR_SECOND_STEP)
  login(@SessionRpc() rpc: RpcSender, @Body() body: LoginBody, @ClientIp() ip: string): Promise<RelayedJson<TokenPairView | SecondStepView>> {
    return rpc.relay(Subjects.AuthLogin, { body, client: { ip } });
  }

  @Post('subuser-login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: "A subuser signs in on its account's login page: account slug, login, password" })
  @ApiOkResponse(SIGNED_IN_OR_SECOND_STEP)
  subuserLogin(@SessionRpc() rpc: RpcSender, @Body() body: SubuserLoginBody, @ClientIp() ip: string): Promise<RelayedJson<TokenPairView | SecondStepView>> {
    return rpc.relay(Subjects.AuthSubuserLogin, { body, client: { ip } });
  }

  @Post('mfa')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Second step of a sign-in: the challenge the password step answered, and a code from the authenticator app or an unused recovery code (401 for a wrong code, which may be typed again; 429 when throttled; 423 SECOND_STEP_BLOCKED once MFA_BLOCK_AFTER_WRONG_CODES wrong codes within 30 days have blocked the second step, until the password is reset or changed or the second step reset)',
  })
  @ApiOkResponse({ type: TokenPairView })
  secondStep(@SessionRpc() rpc: RpcSender, @Body() body: SecondStepBody, @ClientIp() ip: string): Promise<RelayedJson<TokenPairView>> {
    return rpc.relay(Subjects.AuthSecondStep, { body, client: { ip } });
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'A new token pair for a refresh token; a reused refresh token ends its session' })
  @ApiOkResponse({ type: TokenPairView })
  refresh(@SessionRpc() rpc: RpcSender, @Body() body: RefreshTokenBody, @ClientIp() ip: string): Promise<RelayedJson<TokenPairView>> {
    return rpc.relay(Subjects.AuthRefresh, { body, client: { ip } });
  }

  @Post('logout')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session of a refresh token' })
  @ApiNoContentResponse()
  async logout(@Rpc() rpc: RpcSender, @Body() body: RefreshTokenBody, @ClientIp() ip: string): Promise<void> {
    await rpc.send(Subjects.AuthLogout, { body, client: { ip } });
  }

  @Post('password-reset')
  @Public()
  @HttpCode(202)
  @ApiOperation({ summary: 'Ask for a reset mail; the answer is the same whether or not the e-mail is known' })
  @ApiAcceptedResponse({ type: AcceptedView })
  requestReset(@Rpc() rpc: RpcSender, @Body() body: PasswordResetBody, @ClientIp() ip: string): Promise<RelayedJson<AcceptedView>> {
    return rpc.relay(Subjects.AuthPasswordReset, { body, client: { ip } });
  }

  @Post('subuser-password-reset')
  @Public()
  @HttpCode(202)
  @ApiOperation({ summary: 'A subuser asks for a reset mail (to its e-mail); same answer whatever exists' })
  @ApiAcceptedResponse({ type: AcceptedView })
  requestSubuserReset(@Rpc() rpc: RpcSender, @Body() body: SubuserPasswordResetBody, @ClientIp() ip: string): Promise<RelayedJson<AcceptedView>> {
    return rpc.relay(Subjects.AuthSubuserPasswordReset, { body, client: { ip } });
  }

  @Post('password-reset/confirm')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Set a new password with the reset token; every session ends; no automatic sign-in' })
  @ApiNoContentResponse()
  async confirmReset(@Rpc() rpc: RpcSender, @Body() body: PasswordResetConfirmBody, @ClientIp() ip: string): Promise<void> {
    await rpc.send(Subjects.AuthPasswordResetConfirm, { body, client: { ip } });
  }

  @Post('email-change/confirm')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Move a login to the e-mail address the confirmation link was mailed to; the old address gets a notice' })
  @ApiOkResponse({ type: EmailChangedView })
  confirmEmailChange(@Rpc() rpc: RpcSender, @Body() body: LinkTokenBody, @ClientIp() ip: string): Promise<RelayedJson<EmailChangedView>> {
    return rpc.relay(Subjects.AuthEmailChangeConfirm, { body, client: { ip } });
  }

  @Post('email-change/undo')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Move a login back to the address it left, from the notice mailed there: every session ends, the password is cleared, and a reset link goes to that address',
  })
  @ApiOkResponse({ type: EmailChangedView })
  undoEmailChange(@Rpc() rpc: RpcSender, @Body() body: LinkTokenBody, @ClientIp() ip: string): Promise<RelayedJson<EmailChangedView>> {
    return rpc.relay(Subjects.AuthEmailChangeUndo, { body, client: { ip } });
  }

  @Post('invitation/accept')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Accept an account's invitation with the token mailed to someone who already has a login: they work in the account from now on (the account saw only what it typed of them until then)",
  })
  @ApiOkResponse({ type: InvitationAcceptedView })
  acceptInvitation(@Rpc() rpc: RpcSender, @Body() body: LinkTokenBody, @ClientIp() ip: string): Promise<RelayedJson<InvitationAcceptedView>> {
    return rpc.relay(Subjects.AuthInvitationAccept, { body, client: { ip } });
  }

  @Post('invitation/decline')
  @Public()
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Decline an account's invitation with the token mailed to someone who already has a login: they are taken out of the account (an account open sign-up made for them is closed)",
  })
  @ApiNoContentResponse()
  async declineInvitation(@Rpc() rpc: RpcSender, @Body() body: LinkTokenBody, @ClientIp() ip: string): Promise<void> {
    await dropDeclined(rpc, await rpc.send(Subjects.AuthInvitationDecline, { body, client: { ip } }), this.logger);
  }
}
