import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreateUserRequest, ListUsersRequest, Subjects, UpdateUserRequest, UserRequest, type RpcResponse } from '#libs/contracts/index.js';
import { UsersService } from './users.service.js';

/** NATS handlers for the people of an account. */
@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @MessagePattern(Subjects.UsersList)
  list(@Payload() request: ListUsersRequest): Promise<RpcResponse<typeof Subjects.UsersList>> {
    return this.users.list(request);
  }

  @MessagePattern(Subjects.UsersGet)
  get(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersGet>> {
    return this.users.get(request);
  }

  @MessagePattern(Subjects.UsersCreate)
  create(@Payload() request: CreateUserRequest): Promise<RpcResponse<typeof Subjects.UsersCreate>> {
    return this.users.create(request);
  }

  @MessagePattern(Subjects.UsersUpdate)
  update(@Payload() request: UpdateUserRequest): Promise<RpcResponse<typeof Subjects.UsersUpdate>> {
    return this.users.update(request);
  }

  @MessagePattern(Subjects.UsersRemove)
  remove(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersRemove>> {
    return this.users.remove(request);
  }

  @MessagePattern(Subjects.UsersInvitationResend)
  resendInvitation(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersInvitationResend>> {
    return this.users.resendInvitation(request);
  }

  @MessagePattern(Subjects.UsersInvitationRevoke)
  revokeInvitation(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersInvitationRevoke>> {
    return this.users.revokeInvitation(request);
  }

  @MessagePattern(Subjects.UsersPasswordReset)
  sendPasswordReset(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersPasswordReset>> {
    return this.users.sendPasswordReset(request);
  }

  @MessagePattern(Subjects.UsersSessionsEnd)
  endSessions(@Payload() request: UserRequest): Promise<RpcResponse<typeof Subjects.UsersSessionsEnd>> {
    return this.users.endSessions(request);
  }
}
