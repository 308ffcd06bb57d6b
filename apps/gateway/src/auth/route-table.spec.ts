import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { GatewayModule } from '../gateway.module.js';
import type { GatewayConfig } from '../gateway.config.js';
import type { ProcessRuntime } from '#libs/platform/index.js';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy.js';

/** The only routes anyone may call without a token. Adding one here is a security decision. */
const PUBLIC_ROUTES = [
  'POST /v1/accounts',
  'POST /v1/auth/activate',
  'POST /v1/auth/login',
  'POST /v1/auth/subuser-login',
  'POST /v1/auth/mfa',
  'POST /v1/auth/refresh',
  'POST /v1/auth/logout',
  'POST /v1/auth/password-reset',
  'POST /v1/auth/password-reset/confirm',
  'POST /v1/auth/subuser-password-reset',
  'POST /v1/auth/email-change/confirm',
  'POST /v1/auth/email-change/undo',
  'POST /v1/auth/invitation/accept',
  'POST /v1/auth/invitation/decline',
  'POST /v1/auth/token',
  'GET /health/live',
  'GET /health/ready',
  'GET /health/system',
  'GET /.well-known/jwks.json',
];

/**
 * Account routes a signed-in person calls on themselves, with no permission: leaving an account
 * must work for a member holding nothing there (a leave cut off after its unbinding is completed
 * by the same request again), so identity, not a permission check, decides who may.
 */
const SELF_SERVICE_ACCOUNT_ROUTES = [
  'DELETE /v1/me/memberships/:accountId',
  // Answering an account's invitation: the caller has no place in the account yet, so no permission there; identity finds the invitation.
  'POST /v1/me/invitations/:accountId/accept',
  'DELETE /v1/me/invitations/:accountId',
];

interface Route {
  route: string;
  policy: RoutePolicy | undefined;
  controller: string;
}

function routesOf(controller: Type<unknown>): Route[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor' && Reflect.getMetadata(PATH_METADATA, prototype[name] as object) !== undefined)
    .map((name) => {
      const handler = prototype[name] as object;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path = `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((part) => part && part !== '/').join('/')}`.replace(/\/+/g, '/');
      const policy = (Reflect.getMetadata(ROUTE_POLICY, handler) ?? Reflect.getMetadata(ROUTE_POLICY, controller)) as RoutePolicy | undefined;
      return { route: `${method} ${path}`, policy, controller: controller.name };
    });
}

const controllers = (GatewayModule.forRoot({} as GatewayConfig, {} as ProcessRuntime).controllers ?? []) as Type<unknown>[];
const routes = controllers.flatMap(routesOf);

describe('the route table (deny by default)', () => {
  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(10);
  });

  it.each(routes.map((route) => [route.route, route]))('%s declares its access policy', (_name, route) => {
    expect(route.policy).toBeDefined();
  });

  it('has public routes only where listed', () => {
    const publicRoutes = routes.filter((route) => route.policy?.kind === 'public').map((route) => route.route);
    for (const route of publicRoutes) expect(PUBLIC_ROUTES).toContain(route);
  });

  // Express tries routes in the order the controllers are listed (the panel's hottest reads first, each try costs a
  // regular expression): that order must never decide which route answers.
  it('has no request that routes of two controllers could both answer, so their order only costs time', () => {
    const overlapping = routes.flatMap((a, i) =>
      routes
        .slice(i + 1)
        .filter((b) => a.controller !== b.controller && couldBothAnswer(a.route, b.route))
        .map((b) => `${a.route} / ${b.route}`),
    );
    expect(overlapping).toEqual([]);
  });

  it('guards every account route with a permission, but the caller leaving it (signed in; identity checks the membership)', () => {
    const accountRoutes = routes.filter((route) => route.route.includes(':accountId'));
    expect(accountRoutes.length).toBeGreaterThan(5);
    for (const route of accountRoutes) {
      expect([route.route, route.policy?.kind]).toEqual([route.route, SELF_SERVICE_ACCOUNT_ROUTES.includes(route.route) ? 'authenticated' : 'permission']);
    }
  });
});

/**
 * Whether one request could match both routes (`GET /a/:id` and `GET /a/b` could): methods that
 * can answer the same request (HEAD is answered by GET, ALL by any), the same number of segments
 * (a trailing slash aside), each segment a parameter or equal in any letter case. A path with a
 * wildcard or an optional part is beyond this comparison and fails the test.
 */
function couldBothAnswer(a: string, b: string): boolean {
  const [methodA, pathA] = a.split(' ');
  const [methodB, pathB] = b.split(' ');
  for (const path of [pathA, pathB]) if (/[*?+(){}]/.test(path)) throw new Error(`${path}: a wildcard or optional part, compare it by hand`);
  const method = (name: string) => (name === 'HEAD' ? 'GET' : name);
  if (method(methodA) !== method(methodB) && methodA !== 'ALL' && methodB !== 'ALL') return false;
  const segmentsA = pathA.replace(/\/+$/, '').toLowerCase().split('/');
  const segmentsB = pathB.replace(/\/+$/, '').toLowerCase().split('/');
  if (segmentsA.length !== segmentsB.length) return false;
  return segmentsA.every((segment, i) => segment === segmentsB[i] || segment.startsWith(':') || segmentsB[i].startsWith(':'));
}
