import { SetMetadata } from '@nestjs/common';
import { SYSTEM_PERMISSIONS } from '#libs/contracts/index.js';

/** Metadata key of a route's access policy. */
export const ROUTE_POLICY = 'portico:route-policy';

/** Who may call a route: anyone, anyone signed in, or holders of a permission in the route's account. */
export type RoutePolicy = { kind: 'public' } | { kind: 'authenticated' } | { kind: 'permission'; section: string; action: string };

/** The route needs no token (sign-up, login, health, keys). */
export const Public = () => SetMetadata(ROUTE_POLICY, { kind: 'public' } satisfies RoutePolicy);

/** The route needs a valid access token and nothing more (the caller's own profile). */
export const Authenticated = () => SetMetadata(ROUTE_POLICY, { kind: 'authenticated' } satisfies RoutePolicy);

/**
 * The route needs one of Portico's own permissions (`SYSTEM_PERMISSIONS`, e.g. `members` + `write`)
 * in the account named by its `:accountId` parameter. The catalogue maps it onto its sections.
 */
export function RequirePermission(section: string, action: string) {
  if (!(`${section}:${action}` in SYSTEM_PERMISSIONS)) throw new Error(`${section}:${action} is not one of Portico's permissions`);
  return SetMetadata(ROUTE_POLICY, { kind: 'permission', section, action } satisfies RoutePolicy);
}
