import type { Principal } from '#libs/contracts/index.js';
import type { DecisionStore } from '../checks/decision-store.js';
import { isEmpty } from '../checks/permission-index.js';

/**
 * The applications `actor` may see in the account: every one (`'all'`) when it holds something
 * unlimited there, else those it holds something in (none when it holds nothing).
 */
export function visibleApplications(store: DecisionStore, actor: Principal, accountId: string): 'all' | string[] {
  const effective = store.actingAs(actor, accountId).rights;
  if (!effective) return [];
  if (!isEmpty(effective.unlimited)) return 'all';
  return [...effective.perApplication].filter(([, grants]) => !isEmpty(grants)).map(([applicationId]) => applicationId);
}
