import {
  Subjects,
  type AllowedApplicationsView,
  type BatchCheckResult,
  type CheckRequest,
  type CheckResult,
  type PermissionsView,
  type Principal,
} from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/rpc-client.js';

/** One question: may `principal` do `action` on `section` in `accountId` (in `applicationId`)? */
export type AccessQuestion = CheckRequest;

/**
 * The typed client of the access service for any internal service. Decisions are made by access
 * from memory; always pass the end user's principal and account (never the calling service's).
 * Unknown sections or actions reject with a VALIDATION_FAILED DomainError rather than deny.
 */
export class AccessClient {
  constructor(private readonly rpc: RpcSender) {}

  /** One decision. */
  check(question: AccessQuestion): Promise<CheckResult> {
    return this.rpc.send(Subjects.AccessCheck, question);
  }

  /** True when allowed (a shortcut for guards). */
  async can(question: AccessQuestion): Promise<boolean> {
    return (await this.check(question)).allowed;
  }

  /** Many decisions in one message (up to 1000), one result each, in order. */
  checkMany(questions: AccessQuestion[]): Promise<BatchCheckResult[]> {
    return this.rpc.send(Subjects.AccessCheckBatch, { checks: questions });
  }

  /** What the principal may do in the account (in one application, if given), e.g. to build menus. */
  permissions(principal: Principal, accountId: string, applicationId?: string): Promise<PermissionsView> {
    return this.rpc.send(Subjects.AccessPermissionsEffective, applicationId ? { principal, accountId, applicationId } : { principal, accountId });
  }

  /** The applications where the principal may do `action` on `section` (to filter a list of application objects). */
  allowedApplications(principal: Principal, accountId: string, section: string, action: string): Promise<AllowedApplicationsView> {
    return this.rpc.send(Subjects.AccessApplicationsAllowed, { principal, accountId, section, action });
  }
}
