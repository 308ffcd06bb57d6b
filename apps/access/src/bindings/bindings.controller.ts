import { Controller, type OnModuleInit } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  parseBindingsOfPrincipalsRequest,
  RemovePrincipalRequest,
  ReplaceBindingsRequest,
  RoleHoldingsPageRequest,
  Subjects,
  type RoleHoldingsPage,
  type BindingsByPrincipal,
  type BindingView,
  type RemovedPrincipalView,
} from '#libs/contracts/index.js';
import { DirectHandlers } from '#libs/platform/index.js';
import { BindingsService } from './bindings.service.js';

/**
 * NATS handlers for role bindings. The bindings of many principals (every page of the user and
 * subuser tables) validate with a hand-written parser and are answered directly by the NATS
 * server (see DirectHandlers): class-validator takes ~15 us a principal.
 */
@Controller()
export class BindingsController implements OnModuleInit {
  constructor(
    private readonly bindings: BindingsService,
    private readonly direct: DirectHandlers,
  ) {}

  onModuleInit(): void {
    this.direct.register(Subjects.AccessBindingsOfPrincipals, (request) => this.ofPrincipals(request));
  }

  @MessagePattern(Subjects.AccessBindingsReplace)
  replace(@Payload() request: ReplaceBindingsRequest): Promise<BindingView[]> {
    return this.bindings.replace(request);
  }

  @MessagePattern(Subjects.AccessBindingsRemovePrincipal)
  removePrincipal(@Payload() request: RemovePrincipalRequest): Promise<RemovedPrincipalView> {
    return this.bindings.removePrincipal(request);
  }

  @MessagePattern(Subjects.AccessRoleHoldingsPage)
  roleHoldings(@Payload() request: RoleHoldingsPageRequest): RoleHoldingsPage {
    return this.bindings.roleHoldings(request);
  }

  // Declared so that Nest subscribes the subject; the server answers it through the direct handler above.
  @MessagePattern(Subjects.AccessBindingsOfPrincipals)
  ofPrincipals(@Payload() request: unknown): BindingsByPrincipal | Promise<BindingsByPrincipal> {
    return this.bindings.ofPrincipals(parseBindingsOfPrincipalsRequest(request));
  }
}
