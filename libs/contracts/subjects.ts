import type {
  BindingsByPrincipal,
  BindingsOfPrincipalsRequest,
  BindingView,
  CheckRequest,
  CheckResult,
  RemovePrincipalRequest,
  ReplaceBindingsRequest,
  RolesByAccount,
  RolesOfPrincipalRequest,
} from './access.contract.js';
import type { AccountView, CreateAccountBody, GetAccountRequest } from './accounts.contract.js';
import type { DeliveryPage, ListDeliveriesRequest } from './deliveries.contract.js';
import type { ActivateRequest, JwksView, LoginRequest, TokenPairView } from './auth.contract.js';
import type { HealthView } from './health.contract.js';
import type { ActorRequest, MeView } from './me.contract.js';

/** Request/reply subjects, `<service>.<resource>.<verb>`. */
export const Subjects = {
  /** Create an account and its owner; sends the owner an activation mail. */
  AccountsCreate: 'identity.accounts.create',
  /** Read one account. */
  AccountsGet: 'identity.accounts.get',
  /** Set the first password from an activation token. */
  AuthActivate: 'identity.auth.activate',
  /** E-mail + password -> token pair. */
  AuthLogin: 'identity.auth.login',
  /** The caller's profile and memberships. */
  MeGet: 'identity.me.get',
  /** The public keys that verify access tokens. */
  KeysList: 'identity.keys.list',
  /** One permission decision. */
  AccessCheck: 'access.check',
  /** The roles a principal holds in some accounts. */
  AccessRolesOfPrincipal: 'access.roles.of-principal',
  /** Set every binding of a principal in an account (escalation rules enforced). */
  AccessBindingsReplace: 'access.bindings.replace',
  /** Drop every binding of a principal leaving an account. */
  AccessBindingsRemovePrincipal: 'access.bindings.remove-principal',
  /** The bindings of many principals of one account. */
  AccessBindingsOfPrincipals: 'access.bindings.of-principals',
  /** Readiness of identity. */
  IdentityHealth: 'identity.health',
  /** Readiness of access. */
  AccessHealth: 'access.health',
  /** Readiness of notifications. */
  NotificationsHealth: 'notifications.health',
  /** One page of an account's mail delivery log (recipients masked unless the actor may read members). */
  DeliveriesList: 'notifications.deliveries.list',
} as const;

/** The request and response type of every request/reply subject: a wrong payload is a compile error. */
export interface RpcContracts {
  [Subjects.AccountsCreate]: { request: CreateAccountBody; response: AccountView };
  [Subjects.AccountsGet]: { request: GetAccountRequest; response: AccountView };
  [Subjects.AuthActivate]: { request: ActivateRequest; response: { activated: true } };
  [Subjects.AuthLogin]: { request: LoginRequest; response: TokenPairView };
  [Subjects.MeGet]: { request: ActorRequest; response: Omit<MeView, 'memberships'> & { accountIds: MeAccountRef[] } };
  [Subjects.KeysList]: { request: Record<string, never>; response: JwksView };
  [Subjects.AccessCheck]: { request: CheckRequest; response: CheckResult };
  [Subjects.AccessRolesOfPrincipal]: { request: RolesOfPrincipalRequest; response: RolesByAccount };
  [Subjects.AccessBindingsReplace]: { request: ReplaceBindingsRequest; response: BindingView[] };
  [Subjects.AccessBindingsRemovePrincipal]: { request: RemovePrincipalRequest; response: { removed: number } };
  [Subjects.AccessBindingsOfPrincipals]: { request: BindingsOfPrincipalsRequest; response: BindingsByPrincipal };
  [Subjects.IdentityHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.AccessHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.NotificationsHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.DeliveriesList]: { request: ListDeliveriesRequest; response: DeliveryPage };
}

/** An account the caller belongs to, as identity knows it (roles come from access). */
export interface MeAccountRef {
  accountId: string;
  accountName: string;
  accountSlug: string;
}

/** Any request/reply subject. */
export type RpcSubject = keyof RpcContracts;
/** The request type of subject S. */
export type RpcRequest<S extends RpcSubject> = RpcContracts[S]['request'];
/** The response type of subject S. */
export type RpcResponse<S extends RpcSubject> = RpcContracts[S]['response'];
