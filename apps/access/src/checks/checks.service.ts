import { Inject, Injectable } from '@nestjs/common';
import {
  SYSTEM_PERMISSIONS,
  type AllowedApplicationsRequest,
  type AllowedApplicationsView,
  type BatchCheckResult,
  type CheckRequest,
  type CheckResult,
  type EffectivePermissionsRequest,
  type PermissionsView,
  type RolesByAccount,
  type RolesOfPrincipalRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { PreEncodedJson } from '#libs/platform/index.js';
import { DecisionStore, principalKey, SYSTEM_SECTION_PREFIX } from './decision-store.js';
import { rightsIn } from './effective.js';
import { and, or } from './permission-index.js';
import { grantList } from './views.js';
import { AccessStateService } from '../state/access-state.service.js';

const SYSTEM_PERMISSION_PAIRS = Object.keys(SYSTEM_PERMISSIONS).map((permission) => {
  const [section, action] = permission.split(':');
  return { permission, section, action };
});

/** What the checks ask of the replica's state: to catch up with a version their asker heard of. */
export type CatchingUp = Pick<AccessStateService, 'catchUp'>;

/** Permission decisions, from memory. */
@Injectable()
export class ChecksService {
  constructor(
    private readonly store: DecisionStore,
    @Inject(AccessStateService) private readonly state: CatchingUp,
  ) {}

  /**
   * One decision, at once; a promise only while the account is being reloaded after a change, or
   * reloaded because the asker heard of a version newer than this replica holds (`atLeastVersion`).
   */
  check(request: CheckRequest): CheckResult | Promise<CheckResult> {
    // The hot path: no version named, nothing to wait for first.
    const caughtUp = request.atLeastVersion === undefined ? undefined : this.state.catchUp(request.accountId, request.atLeastVersion);
    if (caughtUp) return caughtUp.then(() => this.check({ ...request, atLeastVersion: undefined }));
    return this.store.whenCurrent(request.accountId, () => this.decide(request));
  }

  /** Many decisions (at once unless an account is being reloaded); an invalid check gets its own error without failing the others. */
  checkBatch(checks: CheckRequest[]): BatchCheckResult[] | Promise<BatchCheckResult[]> {
    const caughtUp = this.catchUpEach(checks);
    if (caughtUp) return caughtUp.then(() => this.checkBatch(checks.map((check) => ({ ...check, atLeastVersion: undefined }))));
    return this.store.whenAllCurrent(
      checks.map((check) => check.accountId),
      () => this.decideEach(checks),
    );
  }

  /** What a batch waits for before deciding: the catch-ups of the checks naming a version (undefined: none to wait for). */
  private catchUpEach(checks: CheckRequest[]): Promise<unknown> | undefined {
    let waits: Array<Promise<void>> | undefined;
    for (const check of checks) {
      const caughtUp = check.atLeastVersion === undefined ? undefined : this.state.catchUp(check.accountId, check.atLeastVersion);
      if (caughtUp) (waits ??= []).push(caughtUp);
    }
    return waits && Promise.all(waits);
  }

  private decide(request: CheckRequest): CheckResult {
    return this.store.decide(request.principal, request.accountId, request.section, request.action, request.applicationId);
  }

  private decideEach(checks: CheckRequest[]): BatchCheckResult[] {
    return checks.map((check) => {
      try {
        this.store.assertNotStale(check.accountId);
        return this.store.decide(check.principal, check.accountId, check.section, check.action, check.applicationId);
      } catch (error) {
        if (error instanceof DomainError) return { error: { code: error.code, message: error.message } };
        throw error;
      }
    });
  }

  /**
   * What the principal may do, for menus: catalogue grants (of one application, if given) and
   * Portico permissions, as the JSON of a {@link PermissionsView}. At once unless the account is
   * being reloaded; remembered for the account's current state, since the menus of every panel page
   * ask for it and between two changes of the account it cannot differ.
   */
  effectiveAnswer(request: EffectivePermissionsRequest): PreEncodedJson | Promise<PreEncodedJson> {
    const { accountId, principal, applicationId } = request;
    return this.store.whenCurrent(accountId, () =>
      this.store.remembered(
        accountId,
        `effective ${principalKey(principal)} ${applicationId ?? '-'}`,
        () => new PreEncodedJson(JSON.stringify(this.effectiveNow(request))),
      ),
    );
  }

  private effectiveNow(request: EffectivePermissionsRequest): PermissionsView {
    if (request.applicationId !== undefined && !this.store.hasApplication(request.accountId, request.applicationId)) {
      throw new DomainError(ErrorCode.NotFound, 'Application not found');
    }
    if (this.store.isInactive(request.principal, request.accountId)) return { owner: false, grants: [], system: [] };
    const owner = this.store.isOwner(request.principal, request.accountId);
    const effective = this.store.effective(request.principal, request.accountId);
    if (!effective) return { owner, grants: [], system: [] };
    const { index } = this.store;
    const rights = request.applicationId
      ? or(and(rightsIn(effective, request.applicationId), index.applicationScoped), and(effective.unlimited, invert(index.applicationScoped)))
      : effective.unlimited;
    const system = SYSTEM_PERMISSION_PAIRS.filter(
      ({ section, action }) => this.store.decide(request.principal, request.accountId, SYSTEM_SECTION_PREFIX + section, action).allowed,
    ).map(({ permission }) => permission);
    return { owner, grants: grantList(index.decode(rights)), system };
  }

  /** The applications where the principal may do the action. */
  allowedApplications(request: AllowedApplicationsRequest): AllowedApplicationsView | Promise<AllowedApplicationsView> {
    return this.store.whenCurrent(request.accountId, () =>
      this.store.allowedApplications(request.principal, request.accountId, request.section, request.action),
    );
  }

  /** Role names per account (the owner role first), once those accounts are current. */
  rolesOf(request: RolesOfPrincipalRequest): RolesByAccount | Promise<RolesByAccount> {
    return this.store.whenAllCurrent(request.accountIds, () => this.rolesOfNow(request));
  }

  private rolesOfNow(request: RolesOfPrincipalRequest): RolesByAccount {
    const result: RolesByAccount = {};
    for (const accountId of request.accountIds) {
      this.store.assertNotStale(accountId);
      const owner = this.store.isOwner(request.principal, accountId);
      const names = this.store.bindingsOf(request.principal, accountId).map((binding) => this.store.role(accountId, binding.roleId)?.name ?? binding.roleId);
      result[accountId] = { owner, roles: [...new Set([...(owner ? [this.store.catalog.ownerRole] : []), ...names])] };
    }
    return result;
  }
}

function invert(bits: Uint32Array): Uint32Array {
  return bits.map((word) => ~word >>> 0);
}
