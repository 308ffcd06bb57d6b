import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AllowedApplicationsRequest,
  EffectivePermissionsRequest,
  parseCheckBatch,
  parseCheckRequest,
  RolesOfPrincipalRequest,
  Subjects,
  type AllowedApplicationsView,
  type BatchCheckResult,
  type CheckResult,
  type PermissionsView,
  type RolesByAccount,
} from '#libs/contracts/index.js';
import { ChecksService } from './checks.service.js';

/** NATS handlers for permission decisions (the check API of every internal service). */
@Controller()
export class ChecksController {
  constructor(private readonly checks: ChecksService) {}

  // The two hot subjects take `unknown` (the global class-validator pipe skips it) and validate with a hand-written parser.
  @MessagePattern(Subjects.AccessCheck)
  check(@Payload() request: unknown): Promise<CheckResult> {
    return this.checks.check(parseCheckRequest(request));
  }

  @MessagePattern(Subjects.AccessCheckBatch)
  checkBatch(@Payload() request: unknown): Promise<BatchCheckResult[]> {
    return this.checks.checkBatch(parseCheckBatch(request));
  }

  @MessagePattern(Subjects.AccessPermissionsEffective)
  effective(@Payload() request: EffectivePermissionsRequest): Promise<PermissionsView> {
    return this.checks.effective(request);
  }

  @MessagePattern(Subjects.AccessApplicationsAllowed)
  allowedApplications(@Payload() request: AllowedApplicationsRequest): Promise<AllowedApplicationsView> {
    return this.checks.allowedApplications(request);
  }

  @MessagePattern(Subjects.AccessRolesOfPrincipal)
  rolesOf(@Payload() request: RolesOfPrincipalRequest): RolesByAccount {
    return this.checks.rolesOf(request);
  }
}
