import { Controller, type OnModuleInit } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AllowedApplicationsRequest,
  parseCheckBatch,
  parseCheckRequest,
  parseEffectivePermissionsRequest,
  RolesOfPrincipalRequest,
  Subjects,
  type AllowedApplicationsView,
  type BatchCheckResult,
  type CheckResult,
  type RolesByAccount,
} from '#libs/contracts/index.js';
import { DirectHandlers, type PreEncodedJson } from '#libs/platform/index.js';
import { ChecksService } from './checks.service.js';

/**
 * NATS handlers for permission decisions (the check API of every internal service). The hot
 * subjects (checks, and the effective permissions every panel page asks for its menus) validate
 * with a hand-written parser and are answered directly by the NATS server
 * (see DirectHandlers): a decision costs ~2 us, Nest's enhancer chain around it several times that.
 */
@Controller()
export class ChecksController implements OnModuleInit {
  constructor(
    private readonly checks: ChecksService,
    private readonly direct: DirectHandlers,
  ) {}

  onModuleInit(): void {
    this.direct.register(Subjects.AccessCheck, (request) => this.check(request));
    this.direct.register(Subjects.AccessCheckBatch, (request) => this.checkBatch(request));
    this.direct.register(Subjects.AccessPermissionsEffective, (request) => this.effective(request));
  }

  // The three hot patterns stay declared so that Nest subscribes them; the server answers them
  // through the direct handlers above and leaves to these only packets it cannot read itself.
  @MessagePattern(Subjects.AccessCheck)
  check(@Payload() request: unknown): CheckResult | Promise<CheckResult> {
    return this.checks.check(parseCheckRequest(request));
  }

  @MessagePattern(Subjects.AccessCheckBatch)
  checkBatch(@Payload() request: unknown): BatchCheckResult[] | Promise<BatchCheckResult[]> {
    return this.checks.checkBatch(parseCheckBatch(request));
  }

  /** Answered with the JSON of the principal's PermissionsView, remembered until the account changes. */
  @MessagePattern(Subjects.AccessPermissionsEffective)
  effective(@Payload() request: unknown): PreEncodedJson | Promise<PreEncodedJson> {
    return this.checks.effectiveAnswer(parseEffectivePermissionsRequest(request));
  }

  @MessagePattern(Subjects.AccessApplicationsAllowed)
  allowedApplications(@Payload() request: AllowedApplicationsRequest): AllowedApplicationsView | Promise<AllowedApplicationsView> {
    return this.checks.allowedApplications(request);
  }

  @MessagePattern(Subjects.AccessRolesOfPrincipal)
  rolesOf(@Payload() request: RolesOfPrincipalRequest): RolesByAccount | Promise<RolesByAccount> {
    return this.checks.rolesOf(request);
  }
}
