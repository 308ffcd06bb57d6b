import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ActivateRequest,
  LinkTokenRequest,
  GateStateRequest,
  LoginRequest,
  PasswordResetConfirmRequest,
  PasswordResetRequest,
  RefreshRequest,
  SecondStepRequest,
  Subjects,
  SubuserLoginRequest,
  SubuserPasswordResetRequest,
  type RpcResponse,
} from '#libs/contracts/index.js';
import { PassedOnUserAgent } from '#libs/platform/index.js';
import { EmailChangeService } from '../credentials/email-change.service.js';
import { PasswordResetService } from '../credentials/password-reset.service.js';
import { AuthService } from './auth.service.js';
import { SessionsService } from './sessions.service.js';
import { signInClientOf } from './user-agent.js';
import { SigningKeysService } from './signing-keys.service.js';

/** NATS handlers for sign-in, tokens, resets, confirming a new login e-mail, and the key set. */
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly resets: PasswordResetService,
    private readonly emailChanges: EmailChangeService,
    private readonly keys: SigningKeysService,
  ) {}

  @MessagePattern(Subjects.AuthActivate)
  activate(@Payload() request: ActivateRequest): Promise<RpcResponse<typeof Subjects.AuthActivate>> {
    return this.auth.activate(request);
  }

  @MessagePattern(Subjects.AuthLogin)
  login(@Payload() request: LoginRequest, @PassedOnUserAgent() userAgent: string | undefined): Promise<RpcResponse<typeof Subjects.AuthLogin>> {
    return this.auth.login(request, userAgent);
  }

  @MessagePattern(Subjects.AuthSecondStep)
  secondStep(@Payload() request: SecondStepRequest, @PassedOnUserAgent() userAgent: string | undefined): Promise<RpcResponse<typeof Subjects.AuthSecondStep>> {
    return this.auth.secondStep(request, userAgent);
  }

  @MessagePattern(Subjects.AuthSubuserLogin)
  subuserLogin(
    @Payload() request: SubuserLoginRequest,
    @PassedOnUserAgent() userAgent: string | undefined,
  ): Promise<RpcResponse<typeof Subjects.AuthSubuserLogin>> {
    return this.auth.subuserLogin(request, userAgent);
  }

  @MessagePattern(Subjects.AuthRefresh)
  refresh(@Payload() request: RefreshRequest, @PassedOnUserAgent() userAgent: string | undefined): Promise<RpcResponse<typeof Subjects.AuthRefresh>> {
    return this.sessions.refresh(request.body.refreshToken, signInClientOf(request.client.ip, userAgent));
  }

  @MessagePattern(Subjects.AuthLogout)
  async logout(@Payload() request: RefreshRequest): Promise<RpcResponse<typeof Subjects.AuthLogout>> {
    await this.sessions.logout(request.body.refreshToken, request.client.ip);
    return { loggedOut: true };
  }

  @MessagePattern(Subjects.AuthPasswordReset)
  requestReset(@Payload() request: PasswordResetRequest): Promise<RpcResponse<typeof Subjects.AuthPasswordReset>> {
    return this.resets.request(request);
  }

  @MessagePattern(Subjects.AuthSubuserPasswordReset)
  requestSubuserReset(@Payload() request: SubuserPasswordResetRequest): Promise<RpcResponse<typeof Subjects.AuthSubuserPasswordReset>> {
    return this.resets.requestForSubuser(request);
  }

  @MessagePattern(Subjects.AuthPasswordResetConfirm)
  confirmReset(@Payload() request: PasswordResetConfirmRequest): Promise<RpcResponse<typeof Subjects.AuthPasswordResetConfirm>> {
    return this.resets.confirm(request);
  }

  @MessagePattern(Subjects.AuthEmailChangeConfirm)
  confirmEmailChange(@Payload() request: LinkTokenRequest): Promise<RpcResponse<typeof Subjects.AuthEmailChangeConfirm>> {
    return this.emailChanges.confirm(request);
  }

  @MessagePattern(Subjects.AuthEmailChangeUndo)
  undoEmailChange(@Payload() request: LinkTokenRequest): Promise<RpcResponse<typeof Subjects.AuthEmailChangeUndo>> {
    return this.emailChanges.undo(request);
  }

  @MessagePattern(Subjects.SessionsGateState)
  gateState(@Payload() request: GateStateRequest): Promise<RpcResponse<typeof Subjects.SessionsGateState>> {
    return this.sessions.gateState(request);
  }

  @MessagePattern(Subjects.KeysList)
  keySet(): Promise<RpcResponse<typeof Subjects.KeysList>> {
    return this.keys.jwks();
  }
}
