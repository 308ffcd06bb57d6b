import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CheckRequest, RolesOfPrincipalRequest, Subjects, type CheckResult, type RolesByAccount } from '#libs/contracts/index.js';
import { DecisionStore } from './decision-store.js';

/** The owner's role name until the catalogue names one. */
export const OWNER_ROLE = 'Owner';

/** NATS handlers for permission decisions. */
@Controller()
export class ChecksController {
  constructor(private readonly store: DecisionStore) {}

  @MessagePattern(Subjects.AccessCheck)
  check(@Payload() request: CheckRequest): CheckResult {
    return this.store.decide(request.principal, request.accountId);
  }

  @MessagePattern(Subjects.AccessRolesOfPrincipal)
  rolesOf(@Payload() request: RolesOfPrincipalRequest): RolesByAccount {
    const result: RolesByAccount = {};
    for (const accountId of request.accountIds) {
      const owner = this.store.isOwner(request.principal, accountId);
      result[accountId] = { owner, roles: owner ? [OWNER_ROLE] : [] };
    }
    return result;
  }
}
