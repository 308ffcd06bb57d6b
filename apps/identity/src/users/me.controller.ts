import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ActorRequest, Subjects, type RpcResponse } from '#libs/contracts/index.js';
import { MeService } from './me.service.js';

/** NATS handler for the caller's own profile. */
@Controller()
export class MeController {
  constructor(private readonly me: MeService) {}

  @MessagePattern(Subjects.MeGet)
  get(@Payload() request: ActorRequest): Promise<RpcResponse<'identity.me.get'>> {
    return this.me.get(request.actor);
  }
}
