import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  BindingsOfPrincipalsRequest,
  RemovePrincipalRequest,
  ReplaceBindingsRequest,
  Subjects,
  type BindingsByPrincipal,
  type BindingView,
} from '#libs/contracts/index.js';
import { BindingsService } from './bindings.service.js';

/** NATS handlers for role bindings. */
@Controller()
export class BindingsController {
  constructor(private readonly bindings: BindingsService) {}

  @MessagePattern(Subjects.AccessBindingsReplace)
  replace(@Payload() request: ReplaceBindingsRequest): Promise<BindingView[]> {
    return this.bindings.replace(request);
  }

  @MessagePattern(Subjects.AccessBindingsRemovePrincipal)
  removePrincipal(@Payload() request: RemovePrincipalRequest): Promise<{ removed: number }> {
    return this.bindings.removePrincipal(request);
  }

  @MessagePattern(Subjects.AccessBindingsOfPrincipals)
  ofPrincipals(@Payload() request: BindingsOfPrincipalsRequest): Promise<BindingsByPrincipal> {
    return this.bindings.ofPrincipals(request);
  }
}
