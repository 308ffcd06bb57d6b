import { and, hasBit, isSubset, or, orInto, type PermissionBits, type PermissionIndex } from './permission-index.js';

/** A role binding as the decision engine sees it. */
export interface EngineBinding {
  roleBits: PermissionBits;
  /** null: every application; otherwise the applications it is limited to. */
  applicationIds: readonly string[] | null;
}

/**
 * What a principal may do in one account: `unlimited` holds everywhere (account-scoped sections and
 * application-scoped ones in every application); `perApplication` adds application-scoped rights in
 * the listed applications only.
 */
export interface Effective {
  unlimited: PermissionBits;
  perApplication: Map<string, PermissionBits>;
}

/** Unites a principal's bindings. A limited binding grants only application-scoped sections, only in its applications. */
export function effectiveOf(bindings: readonly EngineBinding[], index: PermissionIndex): Effective {
  const unlimited = index.empty();
  const perApplication = new Map<string, PermissionBits>();
  for (const binding of bindings) {
    if (binding.applicationIds === null) {
      orInto(unlimited, binding.roleBits);
      continue;
    }
    const scoped = and(binding.roleBits, index.applicationScoped);
    for (const applicationId of binding.applicationIds) {
      const current = perApplication.get(applicationId);
      if (current) orInto(current, scoped);
      else perApplication.set(applicationId, Uint32Array.from(scoped));
    }
  }
  return { unlimited, perApplication };
}

/** Everything the principal may do in one application (or account-wide when `applicationId` is absent). */
export function rightsIn(effective: Effective, applicationId?: string): PermissionBits {
  return applicationId ? or(effective.unlimited, effective.perApplication.get(applicationId)) : effective.unlimited;
}

/** Whether the principal holds `bit` in the application (or account-wide when `applicationId` is absent): {@link rightsIn} without building a set. */
export function holdsIn(effective: Effective, applicationId: string | undefined, bit: number): boolean {
  return hasBit(effective.unlimited, bit) || (applicationId !== undefined && hasBit(effective.perApplication.get(applicationId), bit));
}

/** Whether `smaller` grants nothing that `larger` lacks, in any application. */
export function coveredBy(smaller: Effective, larger: Effective): boolean {
  if (!isSubset(smaller.unlimited, larger.unlimited)) return false;
  for (const [applicationId, bits] of smaller.perApplication) {
    if (!isSubset(bits, rightsIn(larger, applicationId))) return false;
  }
  return true;
}
