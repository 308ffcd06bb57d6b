import {
  principalOf,
  Subjects,
  type Actor,
  type ClientContext,
  type DescribePrincipalsRequest,
  type PageQuery,
  type Principal,
  type PrincipalDescription,
  type RoleHolderPageView,
} from '#libs/contracts/index.js';
import { AccessClient } from '#libs/access-client/access-client.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { decisionKey, type DecisionCache } from '../auth/decision-cache.js';

/** Portico's section whose `read` lets a caller read principals of each type by name (as routes declare them). */
const READ_SECTION: Record<Principal['type'], string> = { user: 'members', subuser: 'subusers', 'service-account': 'service-accounts' };

/** Identity's failures that leave the holders bare rather than fail the list: nobody answering (down, or an older release during a rollout), or no answer in time. */
const IDENTITY_AWAY = new Set<string>([ErrorCode.ServiceUnavailable, ErrorCode.UpstreamTimeout]);

/**
 * A page of a role's holders (access's), each named as its list names it (identity's) where the
 * caller may read principals of its type: `members:read` for people, `subusers:read` for
 * subusers, `service-accounts:read` for service accounts. `roles:read` alone shows who holds a role by id only, as before, and so does every
 * caller while identity does not answer: the list is access's, the names an addition.
 */
export async function namedRoleHolders(
  rpc: RpcSender,
  cache: DecisionCache,
  actor: Actor,
  client: ClientContext,
  accountId: string,
  roleId: string,
  query: PageQuery,
): Promise<RoleHolderPageView> {
  const page = await rpc.send(Subjects.AccessRolesHolders, { actor: principalOf(actor), accountId, roleId, query });
  const readable = await readableTypes(rpc, cache, actor, accountId, new Set(page.items.map((item) => item.principal.type)));
  const principals = page.items.map((item) => item.principal).filter((principal) => readable.has(principal.type));
  if (principals.length === 0) return page;
  const items = await describe(rpc, { actor, accountId, client, principals });
  if (items === undefined) return page;
  const named = new Map(items.map((description) => [keyOf(description.principal), description]));
  return {
    ...page,
    items: page.items.map((item) => {
      const description = named.get(keyOf(item.principal));
      return description ? { ...item, name: description.name, email: description.email } : item;
    }),
  };
}

/**
 * Of `types`, those whose principals the caller may read by name in the account. Decided as the
 * access guard decides a route's permission, through its cache (same keys): what it holds, and the
 * rest in one batch naming the account's version this gateway heard of, so that an access replica
 * behind a revocation catches up before it answers. A check answered with an error is a no.
 */
async function readableTypes(
  rpc: RpcSender,
  cache: DecisionCache,
  actor: Actor,
  accountId: string,
  types: Set<Principal['type']>,
): Promise<Set<Principal['type']>> {
  const readable = new Set<Principal['type']>();
  const asked: Array<Principal['type']> = [];
  for (const type of types) {
    const cached = cache.get(accountId, decisionKey(actor, READ_SECTION[type], 'read'));
    if (cached === undefined) asked.push(type);
    else if (cached.allowed) readable.add(type);
  }
  if (asked.length === 0) return readable;
  const ticket = cache.ticket();
  const atLeastVersion = cache.versionHeard(accountId);
  const results = await new AccessClient(rpc).checkMany(
    asked.map((type) => ({
      principal: principalOf(actor),
      accountId,
      section: `portico.${READ_SECTION[type]}`,
      action: 'read',
      ...(atLeastVersion !== undefined && { atLeastVersion }),
    })),
  );
  asked.forEach((type, index) => {
    const result = results[index];
    if (!('allowed' in result)) return;
    cache.set(accountId, decisionKey(actor, READ_SECTION[type], 'read'), result, ticket);
    if (result.allowed) readable.add(type);
  });
  return readable;
}

/** Identity's names of `principals`, or undefined when identity is away ({@link IDENTITY_AWAY}). */
async function describe(rpc: RpcSender, request: DescribePrincipalsRequest): Promise<PrincipalDescription[] | undefined> {
  try {
    return (await rpc.send(Subjects.PrincipalsDescribe, request)).items;
  } catch (error) {
    if (error instanceof DomainError && IDENTITY_AWAY.has(error.code)) return undefined;
    throw error;
  }
}

function keyOf(principal: Principal): string {
  return `${principal.type}:${principal.id}`;
}
