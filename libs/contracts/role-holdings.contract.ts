import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_CURSOR_LENGTH } from './account-request.js';
import type { Principal } from './actor.js';

/** Largest page of {@link RoleHoldingsPageRequest}, in principals (access also cuts a page at 256 KiB of items, far below NATS's 1 MB: a principal may hold 50 roles). */
export const MAX_ROLE_HOLDINGS_PAGE = 1000;

/**
 * `access.role-holdings.page`: every principal holding a role, in every account, a page at a time
 * (by account, then principal), for identity to fill its role projection once (its backfill).
 * Served to identity alone: the gateway's NATS user may not send it.
 */
export class RoleHoldingsPageRequest {
  /** The `nextCursor` of the page before; absent or null: the first page. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_ROLE_HOLDINGS_PAGE)
  limit?: number;
}

/** The roles one principal holds in one account, as of the account's `version` (that of `access.bindings.replaced`). */
export interface RoleHoldingsOfPrincipal {
  accountId: string;
  principal: Principal;
  /** Each role held once (`builtin:<Name>` or a custom role's id), whatever applications it is limited to. */
  roleIds: string[];
  version: number;
}

/** A page of {@link RoleHoldingsOfPrincipal}; `nextCursor` null after the last. */
export interface RoleHoldingsPage {
  items: RoleHoldingsOfPrincipal[];
  nextCursor: string | null;
}
