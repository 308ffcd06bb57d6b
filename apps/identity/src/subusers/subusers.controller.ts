import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreateSubuserRequest, ListSubusersRequest, Subjects, SubuserRequest, UpdateSubuserRequest, type RpcResponse } from '#libs/contracts/index.js';
import { SubusersService } from './subusers.service.js';

/** NATS handlers for the subusers of an account. */
@Controller()
export class SubusersController {
  constructor(private readonly subusers: SubusersService) {}

  @MessagePattern(Subjects.SubusersList)
  list(@Payload() request: ListSubusersRequest): Promise<RpcResponse<typeof Subjects.SubusersList>> {
    return this.subusers.list(request);
  }

  @MessagePattern(Subjects.SubusersGet)
  get(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersGet>> {
    return this.subusers.get(request);
  }

  @MessagePattern(Subjects.SubusersCreate)
  create(@Payload() request: CreateSubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersCreate>> {
    return this.subusers.create(request);
  }

  @MessagePattern(Subjects.SubusersUpdate)
  update(@Payload() request: UpdateSubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersUpdate>> {
    return this.subusers.update(request);
  }

  @MessagePattern(Subjects.SubusersRemove)
  remove(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersRemove>> {
    return this.subusers.remove(request);
  }

  @MessagePattern(Subjects.SubusersPasswordReset)
  sendPasswordReset(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersPasswordReset>> {
    return this.subusers.sendPasswordReset(request);
  }

  @MessagePattern(Subjects.SubusersInvitationResend)
  resendInvitation(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersInvitationResend>> {
    return this.subusers.resendInvitation(request);
  }

  @MessagePattern(Subjects.SubusersSessionsList)
  listSessions(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersSessionsList>> {
    return this.subusers.listSessions(request);
  }

  @MessagePattern(Subjects.SubusersSessionsEnd)
  endSessions(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersSessionsEnd>> {
    return this.subusers.endSessions(request);
  }

  @MessagePattern(Subjects.SubusersSecondStepReset)
  resetSecondStep(@Payload() request: SubuserRequest): Promise<RpcResponse<typeof Subjects.SubusersSecondStepReset>> {
    return this.subusers.resetSecondStep(request);
  }
}
