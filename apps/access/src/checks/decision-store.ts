import type { CheckResult, Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { SecondChanceMap } from '#libs/platform/index.js';
import type { Catalog } from '../catalog/catalog.js';
import { effectiveOf, holdsIn, type Effective } from './effective.js';
import { hasBit, PermissionIndex, type Grants, type PermissionBits } from './permission-index.js';

/** Built-in role ids are the role name behind this prefix (they live in the catalogue, not the database). */
export const BUILTIN_ROLE_PREFIX = 'builtin:';
/** Prefix of Portico's own permissions in a check's `section` (e.g. `portico.members` + `write`). */
export const SYSTEM_SECTION_PREFIX = 'portico.';

/** A role, built-in or custom. */
export interface RoleRecord {
  id: string;
  accountId: string | null;
  name: string;
  description: string | null;
  grants: Grants;
  bits: PermissionBits;
  builtin: boolean;
}

/** One binding of a principal. */
export interface BindingRecord {
  roleId: string;
  applicationIds: string[] | null;
}

/** Everything access knows of one account, as loaded from PostgreSQL (read in one snapshot). */
export interface AccountSnapshot {
  accountId: string;
  /** The account's change counter when it was read: every committed change of the account raises it. */
  version: number;
  ownerId: string | null;
  roles: Array<{ id: string; name: string; description: string | null; grants: Grants }>;
  bindings: Array<{ principalType: string; principalId: string; roleId: string; applicationIds: string[] | null }>;
  applications: Array<{ id: string; name: string }>;
  /** The principals deactivated in the account (identity's events): refused everything there. */
  inactive: Array<{ principalType: string; principalId: string }>;
}

/** The in-memory state of one account. */
interface AccountState {
  /** Made anew with each state: what remembered answers are checked against. */
  generation: object;
  ownerId: string | null;
  customRoles: Map<string, RoleRecord>;
  bindings: Map<string, BindingRecord[]>;
  /** Effective rights by principal type, then id (looked up on every check: no key string built). */
  effective: Map<string, Map<string, Effective>>;
  applications: Map<string, string>;
  /** Inactive principals by type, then id; undefined when there are none (the usual case: a check then looks up nothing more). */
  inactive: Map<string, Set<string>> | undefined;
}

/** Most answers {@link DecisionStore.remembered} keeps, over all accounts (~2 KB each for a full menu). */
export const MAX_REMEMBERED_ANSWERS = 4096;

/** The key of a principal in the maps. */
export function principalKey(principal: Principal): string {
  return `${principal.type}:${principal.id}`;
}

/** The principal a {@link principalKey} names. */
export function principalOfKey(key: string): Principal {
  const separator = key.indexOf(':');
  return { type: key.slice(0, separator) as Principal['type'], id: key.slice(separator + 1) };
}

/**
 * The decision data, in memory: PostgreSQL is the source of truth, this is what checks read.
 * Each account's state is replaced whole when it changes, and each principal's effective rights
 * are precomputed, so a check is a map lookup and a bit test.
 */
export class DecisionStore {
  readonly index: PermissionIndex;
  private readonly builtinRoles = new Map<string, RoleRecord>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly pending = new Map<string, Promise<void>>();
  /** The version of each account's state in memory: an older snapshot never replaces a newer one. */
  private readonly versions = new Map<string, number>();
  /** Accounts whose last reload failed: their decisions are refused until one succeeds (never answered from data known to be old). */
  private readonly stale = new Set<string>();
  /** Answers written from an account's state (see {@link remembered}), by account and key. */
  private readonly answers = new SecondChanceMap<string, { generation: object; answer: unknown }>(MAX_REMEMBERED_ANSWERS);

  constructor(readonly catalog: Catalog) {
    this.index = new PermissionIndex(catalog);
    for (const role of catalog.roles) {
      const id = BUILTIN_ROLE_PREFIX + role.name;
      this.builtinRoles.set(id, {
        id,
        accountId: null,
        name: role.name,
        description: null,
        grants: role.grants,
        bits: this.index.encode(role.grants),
        builtin: true,
      });
    }
  }

  /**
   * Replaces one account's state, unless memory already holds a newer version of it; says whether it
   * did. `evenIfOlder`: replaces it whatever memory holds (a snapshot read under the account's lock
   * is what the database holds, also when it lost commits memory had seen).
   */
  replaceAccount(snapshot: AccountSnapshot, { evenIfOlder = false } = {}): boolean {
    if (!evenIfOlder && snapshot.version < (this.versions.get(snapshot.accountId) ?? -1)) return false;
    const customRoles = new Map(
      snapshot.roles.map((role) => [
        role.id,
        { ...role, accountId: snapshot.accountId, bits: this.index.encode(role.grants), builtin: false } satisfies RoleRecord,
      ]),
    );
    const principals = new Map<string, { type: string; id: string; bindings: BindingRecord[] }>();
    for (const binding of snapshot.bindings) {
      const key = `${binding.principalType}:${binding.principalId}`;
      let principal = principals.get(key);
      if (!principal) principals.set(key, (principal = { type: binding.principalType, id: binding.principalId, bindings: [] }));
      principal.bindings.push({ roleId: binding.roleId, applicationIds: binding.applicationIds });
    }
    const state: AccountState = {
      generation: {},
      ownerId: snapshot.ownerId,
      customRoles,
      bindings: new Map([...principals].map(([key, principal]) => [key, principal.bindings])),
      effective: new Map(),
      applications: new Map(snapshot.applications.map((a) => [a.id, a.name])),
      inactive: byType(snapshot.inactive),
    };
    for (const { type, id, bindings } of principals.values()) {
      let ofType = state.effective.get(type);
      if (!ofType) state.effective.set(type, (ofType = new Map<string, Effective>()));
      ofType.set(id, this.effectiveOfBindings(state, bindings));
    }
    this.accounts.set(snapshot.accountId, state);
    this.versions.set(snapshot.accountId, snapshot.version);
    this.stale.delete(snapshot.accountId);
    return true;
  }

  /**
   * The answer named `key` for the account's current state: written by `write` once per state and
   * then remembered, at most {@link MAX_REMEMBERED_ANSWERS} over all accounts, the least recently
   * used forgotten first (approximately: {@link SecondChanceMap}, so that a hit writes nothing but a flag). Every change replaces an account's state whole, with a new generation, so
   * a remembered answer of an older state is never given (nor does it keep that state in memory).
   * An account with no state in memory is not remembered.
   */
  remembered<T>(accountId: string, key: string, write: () => T): T {
    const state = this.accounts.get(accountId);
    if (!state) return write();
    const name = `${accountId} ${key}`;
    const known = this.answers.get(name);
    if (known?.generation === state.generation) return known.answer as T;
    const answer = write();
    this.answers.set(name, { generation: state.generation, answer });
    return answer;
  }

  /** The version of an account's state in memory (-1: none loaded). */
  versionOf(accountId: string): number {
    return this.versions.get(accountId) ?? -1;
  }

  /**
   * Marks an account as being reloaded: checks on it wait for `reload` before deciding. Reloads of
   * one account run one after the other, each whatever became of the one before; one that fails
   * leaves the account stale (its checks refused) until a later one succeeds.
   */
  refresh(accountId: string, reload: () => Promise<AccountSnapshot>): Promise<void> {
    const previous = this.pending.get(accountId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(reload)
      .then(
        (snapshot) => {
          this.replaceAccount(snapshot);
        },
        (error: unknown) => {
          this.stale.add(accountId);
          throw error;
        },
      )
      .finally(() => {
        if (this.pending.get(accountId) === next) this.pending.delete(accountId);
      });
    this.pending.set(accountId, next);
    return next;
  }

  /** The reload of the account under way (it and any queued behind it), if any. */
  reloadUnderWay(accountId: string): Promise<void> | undefined {
    return this.pending.get(accountId);
  }

  /** The accounts whose last reload failed. */
  staleAccounts(): string[] {
    return [...this.stale];
  }

  /** `read()` at once, or once the account's reload in progress is done: answers stay synchronous unless they must wait. */
  whenCurrent<T>(accountId: string, read: () => T): T | Promise<T> {
    const reload = this.pending.get(accountId);
    if (reload) {
      const again = () => this.whenCurrent(accountId, read);
      return reload.then(again, again);
    }
    this.assertNotStale(accountId);
    return read();
  }

  /** `read()` once no reload of these accounts is in progress; unlike {@link whenCurrent}, `read` must call {@link assertNotStale} itself (per account). */
  whenAllCurrent<T>(accountIds: Iterable<string>, read: () => T): T | Promise<T> {
    const reloads = new Set<Promise<void>>();
    for (const accountId of accountIds) {
      const reload = this.pending.get(accountId);
      if (reload) reloads.add(reload);
    }
    if (reloads.size === 0) return read();
    return Promise.allSettled(reloads).then(() => this.whenAllCurrent(accountIds, read));
  }

  /** Refuses (503) to decide on an account whose last reload failed. */
  assertNotStale(accountId: string): void {
    if (this.stale.has(accountId)) {
      throw new DomainError(ErrorCode.ServiceUnavailable, 'The access data of this account could not be reloaded after a change; try again shortly');
    }
  }

  /** Whether `principal` owns the account. */
  isOwner(principal: Principal, accountId: string): boolean {
    return principal.type === 'user' && this.accounts.get(accountId)?.ownerId === principal.id;
  }

  /** Whether the principal is deactivated in the account: refused everything there, even as the owner. */
  isInactive(principal: Principal, accountId: string): boolean {
    const inactive = this.accounts.get(accountId)?.inactive;
    return inactive !== undefined && inactive.get(principal.type)?.has(principal.id) === true;
  }

  /**
   * What the bindings of a principal give it in an account (the owner: everything), whether it is
   * inactive there or not: the no-escalation rules judge the principal whose rights someone changes
   * by this, so that nobody may edit an inactive admin holding more than they do. Undefined when it
   * holds nothing there. What a principal may do itself: {@link decide}, {@link actingAs}.
   */
  effective(principal: Principal, accountId: string): Effective | undefined {
    if (this.isOwner(principal, accountId)) return { unlimited: this.index.all, perApplication: new Map() };
    return this.accounts.get(accountId)?.effective.get(principal.type)?.get(principal.id);
  }

  /** Who a principal is when it changes something in the account: an inactive one is nobody there (not the owner, no rights). */
  actingAs(principal: Principal, accountId: string): { owner: boolean; rights: Effective | undefined } {
    if (this.isInactive(principal, accountId)) return { owner: false, rights: undefined };
    return { owner: this.isOwner(principal, accountId), rights: this.effective(principal, accountId) };
  }

  /** Effective rights that a set of bindings would give, in one account. */
  effectiveOfProposal(accountId: string, bindings: BindingRecord[]): Effective {
    return this.effectiveOfBindings(this.state(accountId), bindings);
  }

  /** The decision for one check; an inactive principal is refused everything. Unknown sections or actions are an error, never a silent deny. */
  decide(principal: Principal, accountId: string, section: string, action: string, applicationId?: string): CheckResult {
    if (section.startsWith(SYSTEM_SECTION_PREFIX)) return this.decideSystem(principal, accountId, section.slice(SYSTEM_SECTION_PREFIX.length), action);
    const bit = this.bitOf(section, action);
    // The hot path: the account's state is looked up once (as isInactive, hasApplication, isOwner and effective would, each).
    const state = this.accounts.get(accountId);
    if (state?.inactive?.get(principal.type)?.has(principal.id)) return { allowed: false, reason: 'inactive' };
    const foreignApplication = applicationId !== undefined && !state?.applications.has(applicationId);
    if (principal.type === 'user' && state !== undefined && state.ownerId === principal.id) {
      return foreignApplication ? { allowed: false, reason: 'not-granted' } : { allowed: true, reason: 'owner' };
    }
    const effective = state?.effective.get(principal.type)?.get(principal.id);
    if (!effective) return { allowed: false, reason: 'not-member' };
    if (foreignApplication) return { allowed: false, reason: 'not-granted' };
    const held = this.index.scopeOf(section) === 'application' ? holdsIn(effective, applicationId, bit) : hasBit(effective.unlimited, bit);
    return held ? { allowed: true, reason: 'granted' } : { allowed: false, reason: 'not-granted' };
  }

  /** The applications of the account in which the principal may do `action` on `section` (none while it is inactive). */
  allowedApplications(principal: Principal, accountId: string, section: string, action: string): { all: boolean; applicationIds: string[] } {
    const bit = this.bitOf(section, action);
    if (this.isInactive(principal, accountId)) return { all: false, applicationIds: [] };
    const applications = [...(this.accounts.get(accountId)?.applications.keys() ?? [])];
    const effective = this.effective(principal, accountId);
    if (!effective) return { all: false, applicationIds: [] };
    if (hasBit(effective.unlimited, bit)) return { all: true, applicationIds: applications };
    if (this.index.scopeOf(section) !== 'application') return { all: false, applicationIds: [] };
    return { all: false, applicationIds: applications.filter((id) => hasBit(effective.perApplication.get(id), bit)) };
  }

  /**
   * A role of the account by id or name: a built-in one as written, then a custom one by its id (either case, as any UUID)
   * or its name: as written, else in any case when only one role is so named.
   */
  role(accountId: string, idOrName: string): RoleRecord | undefined {
    const builtin = this.builtinRoles.get(idOrName) ?? this.builtinRoles.get(BUILTIN_ROLE_PREFIX + idOrName);
    if (builtin) return builtin;
    const custom = this.accounts.get(accountId)?.customRoles;
    if (!custom) return undefined;
    const lower = idOrName.toLowerCase();
    const byId = custom.get(idOrName) ?? custom.get(lower);
    if (byId) return byId;
    const roles = [...custom.values()];
    const exactly = roles.find((role) => role.name === idOrName);
    if (exactly) return exactly;
    // In any case, when only one role is so named: on a database whose locale folds ASCII only, PostgreSQL's
    // uniqueness lets two names differ in the case of a letter beyond ASCII, and a name must not pick one at random.
    const folded = roles.filter((role) => role.name.toLowerCase() === lower);
    return folded.length === 1 ? folded[0] : undefined;
  }

  /** A role of the account by its id alone: a built-in one's as written, a custom one's in either case. A name names nothing here. */
  roleById(accountId: string, id: string): RoleRecord | undefined {
    return this.builtinRoles.get(id) ?? this.accounts.get(accountId)?.customRoles.get(id.toLowerCase());
  }

  /** Built-in roles, then the account's custom roles. */
  roles(accountId: string): RoleRecord[] {
    return [...this.builtinRoles.values(), ...(this.accounts.get(accountId)?.customRoles.values() ?? [])];
  }

  /** The bindings of a principal in an account. */
  bindingsOf(principal: Principal, accountId: string): BindingRecord[] {
    return this.accounts.get(accountId)?.bindings.get(principalKey(principal)) ?? [];
  }

  /** Whether the application exists in the account. */
  hasApplication(accountId: string, applicationId: string): boolean {
    return this.accounts.get(accountId)?.applications.has(applicationId) ?? false;
  }

  /** How many principals hold the role in the account. */
  holdersOf(accountId: string, roleId: string): number {
    return this.holderKeys(accountId, roleId).length;
  }

  /** The principals that hold the role in the account. */
  holders(accountId: string, roleId: string): Principal[] {
    return this.holderKeys(accountId, roleId).map(principalOfKey);
  }

  /** The accounts whose state is in memory. */
  accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  /** Each principal bound in the account, by {@link principalKey}, with its bindings. */
  boundPrincipals(accountId: string): ReadonlyMap<string, BindingRecord[]> {
    return this.accounts.get(accountId)?.bindings ?? new Map();
  }

  /** Number of accounts and bindings held (for the benchmark's memory report). */
  size(): { accounts: number; principals: number } {
    let principals = 0;
    for (const state of this.accounts.values()) principals += state.bindings.size;
    return { accounts: this.accounts.size, principals };
  }

  private decideSystem(principal: Principal, accountId: string, section: string, action: string): CheckResult {
    const rule = this.catalog.system[`${section}:${action}` as keyof Catalog['system']];
    if (!rule) throw new DomainError(ErrorCode.ValidationFailed, `Unknown permission ${section}:${action}`);
    if (this.isInactive(principal, accountId)) return { allowed: false, reason: 'inactive' };
    if (this.isOwner(principal, accountId)) return { allowed: true, reason: 'owner' };
    const effective = this.effective(principal, accountId);
    if (!effective) return { allowed: false, reason: 'not-member' };
    if (rule.kind === 'member') return { allowed: true, reason: 'granted' };
    if (rule.kind === 'owner') return { allowed: false, reason: 'not-granted' };
    return hasBit(effective.unlimited, this.bitOf(rule.section, rule.action))
      ? { allowed: true, reason: 'granted' }
      : { allowed: false, reason: 'not-granted' };
  }

  private bitOf(section: string, action: string): number {
    const bit = this.index.bit(section, action);
    if (bit === undefined) {
      const known = this.index.scopeOf(section) !== undefined;
      throw new DomainError(ErrorCode.ValidationFailed, known ? `Section ${section} has no action ${action}` : `Unknown section ${section}`);
    }
    return bit;
  }

  private effectiveOfBindings(state: AccountState | undefined, bindings: BindingRecord[]): Effective {
    const engine = bindings.flatMap((binding) => {
      const role = this.builtinRoles.get(binding.roleId) ?? state?.customRoles.get(binding.roleId);
      return role ? [{ roleBits: role.bits, applicationIds: binding.applicationIds }] : [];
    });
    return effectiveOf(engine, this.index);
  }

  /** The {@link principalKey}s of the role's holders. */
  private holderKeys(accountId: string, roleId: string): string[] {
    const keys: string[] = [];
    for (const [key, list] of this.accounts.get(accountId)?.bindings ?? []) if (list.some((binding) => binding.roleId === roleId)) keys.push(key);
    return keys;
  }

  private state(accountId: string): AccountState | undefined {
    return this.accounts.get(accountId);
  }
}

/** Principals by type, then id; undefined for none. */
function byType(principals: AccountSnapshot['inactive']): Map<string, Set<string>> | undefined {
  if (principals.length === 0) return undefined;
  const result = new Map<string, Set<string>>();
  for (const { principalType, principalId } of principals) {
    let ids = result.get(principalType);
    if (!ids) result.set(principalType, (ids = new Set<string>()));
    ids.add(principalId);
  }
  return result;
}
