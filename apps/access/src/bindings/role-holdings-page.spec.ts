import { randomUUID } from 'node:crypto';
import type { RoleHoldingsOfPrincipal } from '#libs/contracts/index.js';
import type { BindingRecord, DecisionStore } from '../checks/decision-store.js';
import { roleHoldingsPage } from './role-holdings-page.js';

/** NATS's default `max_payload` (the deployment sets none): a reply larger than this never arrives. */
const NATS_MAX_PAYLOAD = 1024 * 1024;

/** A store of one account whose `principals` each hold `roles` custom roles (the most a replacement gives: 50). */
function storeOf(principals: number, roles: number): DecisionStore {
  const accountId = randomUUID();
  const roleIds = Array.from({ length: roles }, () => randomUUID());
  const bound = new Map<string, BindingRecord[]>();
  for (let index = 0; index < principals; index++) {
    bound.set(
      `subuser:${randomUUID()}`,
      roleIds.map((roleId) => ({ roleId, applicationIds: null })),
    );
  }
  return { accountIds: () => [accountId], versionOf: () => 1_765_000_000_000_000, boundPrincipals: () => bound } as unknown as DecisionStore;
}

describe('a page of every role holding (access.role-holdings.page)', () => {
  it("stays within NATS's largest message however many roles its principals hold, the cursor going on where it stopped", () => {
    const store = storeOf(1000, 50);
    const items: RoleHoldingsOfPrincipal[] = [];
    let cursor: string | null = null;
    do {
      const page = roleHoldingsPage(store, { cursor, limit: 1000 });
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(NATS_MAX_PAYLOAD / 2);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(items).toHaveLength(1000);
    expect(new Set(items.map((item) => item.principal.id)).size).toBe(1000);
  });
});
