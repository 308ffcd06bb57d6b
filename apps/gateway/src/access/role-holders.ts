import { principalOf, Subjects, type Actor, type ClientContext, type PageQuery, type Principal, type RoleHolderPageView } from '#libs/contracts/index.js';
import { AccessClient } from '#libs/access-client/access-client.js';
import type { RpcSender } from '#libs/platform/index.js';

/** The permission that lets a caller read principals of each type by name (Portico's own, as routes declare them). */
const READ_PERMISSION: Record<Principal['type'], string> = { user: 'portico.members', subuser: 'portico.subusers' };

/**
 * A page of a role's holders (access's), each named as its list names it (identity's) where the
 * caller may read principals of its type: `members:read` for people, `subusers:read` for
 * subusers. `roles:read` alone shows who holds a role by id only, as before.
 */
export async function namedRoleHolders(
  rpc: RpcSender,
  actor: Actor,
  client: ClientContext,
  accountId: string,
  roleId: string,
  query: PageQuery,
): Promise<RoleHolderPageView> {
  const page = await rpc.send(Subjects.AccessRolesHolders, { actor: principalOf(actor), accountId, roleId, query });
  const readable = await readableTypes(rpc, actor, accountId, new Set(page.items.map((item) => item.principal.type)));
  const principals = page.items.map((item) => item.principal).filter((principal) => readable.has(principal.type));
  if (principals.length === 0) return page;
  const { items } = await rpc.send(Subjects.PrincipalsDescribe, { actor, accountId, client, principals });
  const named = new Map(items.map((description) => [keyOf(description.principal), description]));
  return {
    ...page,
    items: page.items.map((item) => {
      const description = named.get(keyOf(item.principal));
      return description ? { ...item, name: description.name, email: description.email } : item;
    }),
  };
}

/** Of `types`, those whose principals the caller may read by name in the account (one batch of checks). */
async function readableTypes(rpc: RpcSender, actor: Actor, accountId: string, types: Set<Principal['type']>): Promise<Set<Principal['type']>> {
  const asked = [...types];
  if (asked.length === 0) return new Set();
  const results = await new AccessClient(rpc).checkMany(
    asked.map((type) => ({ principal: principalOf(actor), accountId, section: READ_PERMISSION[type], action: 'read' })),
  );
  return new Set(asked.filter((_type, index) => 'allowed' in results[index] && results[index].allowed));
}

function keyOf(principal: Principal): string {
  return `${principal.type}:${principal.id}`;
}
