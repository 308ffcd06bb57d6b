import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AllowedApplicationsRequest,
  CheckBatchRequest,
  CheckRequest,
  EffectivePermissionsRequest,
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

  @MessagePattern(Subjects.AccessCheck)
  check(@Payload() request: CheckRequest): Promise<CheckResult> {
    return this.checks.check(request);
  }

  @MessagePattern(Subjects.AccessCheckBatch)
  checkBatch(@Payload() request: CheckBatchRequest): Promise<BatchCheckResult[]> {
    return this.checks.checkBatch(request.checks);
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
