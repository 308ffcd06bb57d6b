import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccountRequest,
  ActorClientRequest,
  ActorRequest,
  ChangeEmailRequest,
  ChangePasswordRequest,
  EndOwnSessionRequest,
  Subjects,
  UpdateProfileRequest,
  type RpcResponse,
} from '#libs/contracts/index.js';
import { EmailChangeService } from '../credentials/email-change.service.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MeService } from './me.service.js';
import { UsersService } from './users.service.js';

/** NATS handlers for the caller's own profile, login e-mail, password, sessions and memberships. */
@Controller()
export class MeController {
  constructor(
    private readonly me: MeService,
    private readonly passwords: PasswordsService,
    private readonly emailChanges: EmailChangeService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {}

  @MessagePattern(Subjects.MeGet)
  get(@Payload() request: ActorRequest): Promise<RpcResponse<typeof Subjects.MeGet>> {
    return this.me.get(request.actor);
  }

  @MessagePattern(Subjects.MeUpdate)
  update(@Payload() request: UpdateProfileRequest): Promise<RpcResponse<typeof Subjects.MeUpdate>> {
    return this.me.update(request);
  }

  @MessagePattern(Subjects.MePasswordChange)
  changePassword(@Payload() request: ChangePasswordRequest): Promise<RpcResponse<typeof Subjects.MePasswordChange>> {
    return this.passwords.change(request);
  }

  @MessagePattern(Subjects.MeEmailChange)
  changeEmail(@Payload() request: ChangeEmailRequest): Promise<RpcResponse<typeof Subjects.MeEmailChange>> {
    return this.emailChanges.request(request);
  }

  @MessagePattern(Subjects.MeLeave)
  leave(@Payload() request: AccountRequest): Promise<RpcResponse<typeof Subjects.MeLeave>> {
    return this.users.leave(request);
  }

  @MessagePattern(Subjects.MeSessionsList)
  sessionsList(@Payload() request: ActorClientRequest): Promise<RpcResponse<typeof Subjects.MeSessionsList>> {
    return this.sessions.listOwn(request.actor);
  }

  @MessagePattern(Subjects.MeSessionsEnd)
  async endSession(@Payload() request: EndOwnSessionRequest): Promise<RpcResponse<typeof Subjects.MeSessionsEnd>> {
    return { ended: await this.sessions.endOwn(request.actor, request.sessionId, request.client.ip) };
  }

  @MessagePattern(Subjects.MeSessionsEndOthers)
  async endOtherSessions(@Payload() request: ActorClientRequest): Promise<RpcResponse<typeof Subjects.MeSessionsEndOthers>> {
    return { ended: await this.sessions.endOthers(request.actor, request.client.ip) };
  }
}
