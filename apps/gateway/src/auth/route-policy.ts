import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiDefaultResponse, ApiExtension, ApiForbiddenResponse, ApiNotFoundResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SYSTEM_PERMISSIONS } from '#libs/contracts/index.js';
import { ErrorView } from '../http/error-body.js';

/** Metadata key of a route's access policy. */
export const ROUTE_POLICY = 'portico:route-policy';

/** Who may call a route: anyone, anyone signed in, or holders of a permission in the route's account. */
export type RoutePolicy = { kind: 'public' } | { kind: 'authenticated' } | { kind: 'permission'; section: string; action: string };

/** Every route's error answers, in the OpenAPI description. */
const ANY_ERROR = ApiDefaultResponse({ type: ErrorView, description: 'An error: `code` says which (400 names the field at fault)' });
const NO_VALID_TOKEN = ApiUnauthorizedResponse({ type: ErrorView, description: 'No valid access token (UNAUTHENTICATED): sign in again' });

/**
 * A route's policy and what the OpenAPI description says of it, on a route method only: on a
 * controller, the description's parts would be copied onto every operation, over a method's own policy.
 */
function onRouteMethod(name: string, ...decorators: Array<ClassDecorator | MethodDecorator | PropertyDecorator>): MethodDecorator {
  const applied = applyDecorators(...decorators);
  return (target, key, descriptor) => {
    if (descriptor === undefined) throw new Error(`@${name}() belongs on a route method, not on a controller`);
    applied(target, key, descriptor);
  };
}

/** The route needs no token (sign-up, login, health, keys). */
export const Public = () => onRouteMethod('Public', SetMetadata(ROUTE_POLICY, { kind: 'public' } satisfies RoutePolicy), ANY_ERROR);

/** The route needs a valid access token and nothing more (the caller's own profile). */
export const Authenticated = () =>
  onRouteMethod('Authenticated', SetMetadata(ROUTE_POLICY, { kind: 'authenticated' } satisfies RoutePolicy), ANY_ERROR, NO_VALID_TOKEN);

/**
 * The route needs one of Portico's own permissions (`SYSTEM_PERMISSIONS`, e.g. `members` + `write`)
 * in the account named by its `:accountId` parameter. The catalogue maps it onto its sections.
 */
export function RequirePermission(section: string, action: string) {
  const permission = `${section}:${action}`;
  if (!(permission in SYSTEM_PERMISSIONS)) throw new Error(`${permission} is not one of Portico's permissions`);
  return onRouteMethod(
    'RequirePermission',
    SetMetadata(ROUTE_POLICY, { kind: 'permission', section, action } satisfies RoutePolicy),
    // Which permission, for a program: the catalogue in use maps it onto its sections (GET /v1/sections).
    ApiExtension('x-portico-permission', permission),
    ANY_ERROR,
    NO_VALID_TOKEN,
    ApiForbiddenResponse({ type: ErrorView, description: `Missing permission ${permission} (FORBIDDEN)` }),
    ApiNotFoundResponse({
      type: ErrorView,
      description: 'The account, or what the path names in it, does not exist, or the caller has nothing there (NOT_FOUND)',
    }),
  );
}
