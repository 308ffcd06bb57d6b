import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { BindingsReplacedData, Principal, RoleHoldingsOfPrincipal } from '#libs/contracts/index.js';

/**
 * The roles one principal holds in one account, as of access's `version` of the account (null: an
 * event of an access release that did not tell it).
 */
export interface HeldRoles {
  accountId: string;
  principal: Principal;
  roleIds: string[];
  version: number | null;
}

/** What an `access.bindings.replaced` says the principal holds after its change. */
export function heldRolesAfter(data: BindingsReplacedData): HeldRoles {
  const roleIds = [...new Set(data.after.map((held) => held.roleId))];
  return { accountId: data.accountId, principal: data.principal, roleIds, version: data.version ?? null };
}

/** A page item of `access.role-holdings.page` as {@link HeldRoles}. */
export function heldRolesOf(item: RoleHoldingsOfPrincipal): HeldRoles {
  return { accountId: item.accountId, principal: item.principal, roleIds: item.roleIds, version: item.version };
}

/**
 * Records the version of a principal's change unless a later one is recorded already, answering
 * whether it did (the row stays locked until the transaction ends, so two replicas applying two
 * changes of one principal take turns, and the later version wins whichever commits first). A
 * change without a version is always applied, its principal's version left as it is (0 if none).
 * Nothing for an account identity does not hold (closed).
 */
const NEWER_VERSION = `
  INSERT INTO role_holding_versions (account_id, principal_type, principal_id, version)
  SELECT $1, $2, $3, COALESCE($4::bigint, 0) WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1)
  ON CONFLICT (account_id, principal_type, principal_id) DO UPDATE
     SET version = COALESCE($4::bigint, role_holding_versions.version)
   WHERE $4::bigint IS NULL OR role_holding_versions.version < $4::bigint
  RETURNING version`;

/**
 * Replaces what the projection says a principal holds with `held`, unless a later change of the
 * principal was applied already (its version is higher): delivered twice, or after a newer one, it
 * changes nothing. Kept whether or not the principal is in the account now, as access keeps them:
 * the lists show only the principals in the account (their queries start from them), and someone
 * added again holding what access kept for them (no event: access changed nothing) shows again.
 * Answers whether it applied the change.
 */
export async function applyHeldRoles(manager: EntityManager, { accountId, principal, roleIds, version }: HeldRoles): Promise<boolean> {
  const key = [accountId, principal.type, principal.id];
  const newer = await manager.query<unknown[]>(NEWER_VERSION, [...key, version]);
  if (newer.length === 0) return false;
  await manager.query('DELETE FROM role_holdings WHERE account_id = $1 AND principal_type = $2 AND principal_id = $3', key);
  if (roleIds.length > 0) {
    await manager.query(
      `INSERT INTO role_holdings (account_id, principal_type, principal_id, role_id)
       SELECT $1, $2, $3, role_id FROM unnest($4::text[]) AS role_id ON CONFLICT DO NOTHING`,
      [...key, roleIds],
    );
  }
  return true;
}

/** Identity's projection of access's bindings: who holds which role in which account (the `role` filter of the user table and the subusers). */
@Injectable()
export class RoleProjection {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies one principal's roles ({@link applyHeldRoles}) in a transaction of its own. */
  apply(held: HeldRoles): Promise<boolean> {
    return this.dataSource.transaction((manager) => applyHeldRoles(manager, held));
  }

  /** Applies a page of principals' roles in one transaction (the backfill). */
  applyAll(page: HeldRoles[]): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      for (const held of page) await applyHeldRoles(manager, held);
    });
  }
}
