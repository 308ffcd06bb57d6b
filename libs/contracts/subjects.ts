import type {
  AllowedApplicationsRequest,
  AllowedApplicationsView,
  ApplicationView,
  BatchCheckResult,
  CatalogView,
  CheckBatchRequest,
  CreateApplicationRequest,
  CreateRoleRequest,
  DeleteApplicationRequest,
  DeleteRoleRequest,
  EffectivePermissionsRequest,
  ListApplicationsRequest,
  ListRolesRequest,
  GetRoleRequest,
  ListRoleHoldersRequest,
  PermissionsView,
  RenameApplicationRequest,
  RoleView,
  RoleHolderView,
  UpdateRoleRequest,
  BindingsByPrincipal,
  BindingsOfPrincipalsRequest,
  BindingView,
  CheckRequest,
  CheckResult,
  RemovedPrincipalView,
  RemovePrincipalRequest,
  ReplaceBindingsRequest,
  RolesByAccount,
  RolesOfPrincipalRequest,
} from './access.contract.js';
import type {
  AccountView,
  CreateAccountBody,
  CreateAccountRequest,
  GetAccountRequest,
  TransferOwnershipRequest,
  UpdateAccountRequest,
} from './accounts.contract.js';
import type { RoleHoldingsPage, RoleHoldingsPageRequest } from './role-holdings.contract.js';
import type { DeliveryPage, ListDeliveriesRequest } from './deliveries.contract.js';
import type { ActivateRequest, JwksView, LoginRequest, TokenPairView } from './auth.contract.js';
import type { HealthView } from './health.contract.js';
import type { ActorRequest, MeView } from './me.contract.js';
import type {
  ConfirmTotpRequest,
  MfaStatusView,
  RecoveryCodesView,
  SecondFactorChangeRequest,
  SecondStepRequest,
  SecondStepView,
  StartTotpRequest,
  TotpEnrolmentView,
} from './mfa.contract.js';
import type { AccountRequest, ActorClientRequest, Page } from './account-request.js';
import type { DescribePrincipalsRequest, PrincipalDescriptions } from './principals.contract.js';
import type { AuditEventView, AuditFeedPageView, FeedAuditEventsRequest, ListAuditEventsRequest } from './audit.contract.js';
import type {
  AcceptedView,
  ChangeEmailRequest,
  ChangePasswordRequest,
  LinkTokenRequest,
  EmailChangedView,
  PasswordResetConfirmRequest,
  PasswordResetRequest,
  SubuserLoginRequest,
  SubuserPasswordResetRequest,
} from './credentials.contract.js';
import type { EndOwnSessionRequest, GateStatePage, GateStateRequest, RefreshRequest, SessionView } from './sessions.contract.js';
import type {
  ClientCredentialsRequest,
  ClientCredentialsTokenView,
  CreatedServiceAccountKeyView,
  CreatedServiceAccountView,
  CreateServiceAccountKeyRequest,
  CreateServiceAccountRequest,
  ListServiceAccountsRequest,
  ServiceAccountKeyRequest,
  ServiceAccountKeyView,
  ServiceAccountRecord,
  ServiceAccountRequest,
  UpdateServiceAccountRequest,
} from './service-accounts.contract.js';
import type {
  CreatedSubuserView,
  CreateSubuserRequest,
  ListSubusersRequest,
  SubuserRecord,
  SubuserRequest,
  UpdateSubuserRequest,
} from './subusers.contract.js';
import type {
  CreatedView,
  CreateUserRequest,
  InvitationAcceptedView,
  InvitationDeclined,
  InvitationView,
  ListUsersRequest,
  UpdateProfileRequest,
  UpdateUserRequest,
  UserRecord,
  UserRequest,
} from './users.contract.js';

/** Request/reply subjects, `<service>.<resource>.<verb>`. */
export const Subjects = {
  /** Open sign-up: create an account and its owner (throttled per client address); sends the owner an activation mail. */
  AccountsSignUp: 'identity.accounts.sign-up',
  /**
   * Open sign-up as gateways of the previous release send it: the bare body, the client address
   * unknown (so not throttled).
   * @deprecated Use {@link Subjects.AccountsSignUp}. Identity answers this one for one release, so
   * that sign-up keeps working while the Deployments roll; it goes in the release after.
   */
  AccountsCreate: 'identity.accounts.create',
  /** Read one account. */
  AccountsGet: 'identity.accounts.get',
  /** The owner hands the account to another member, keeping a role. */
  AccountsTransferOwnership: 'identity.accounts.transfer-ownership',
  /** Rename an account, or change the language of its mails. */
  AccountsUpdate: 'identity.accounts.update',
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
  /** Many decisions in one message. */
  AccessCheckBatch: 'access.check.batch',
  /** What a principal may do in an account. */
  AccessPermissionsEffective: 'access.permissions.effective',
  /** The applications in which a principal may do an action on a section. */
  AccessApplicationsAllowed: 'access.applications.allowed',
  /** The section catalogue. */
  AccessCatalogGet: 'access.catalog.get',
  /** Built-in and custom roles of an account. */
  AccessRolesList: 'access.roles.list',
  /** One role of an account (built-in or custom), with how many hold it. */
  AccessRolesGet: 'access.roles.get',
  /** A page of the principals holding a role of an account, and in which applications. */
  AccessRolesHolders: 'access.roles.holders',
  /** Create a custom role. */
  AccessRolesCreate: 'access.roles.create',
  /** Rename or regrant a custom role. */
  AccessRolesUpdate: 'access.roles.update',
  /** Delete a custom role (refused while bound). */
  AccessRolesDelete: 'access.roles.delete',
  /** Applications of an account. */
  AccessApplicationsList: 'access.applications.list',
  /** Create an application. */
  AccessApplicationsCreate: 'access.applications.create',
  /** Rename an application. */
  AccessApplicationsRename: 'access.applications.rename',
  /** Delete an application. */
  AccessApplicationsDelete: 'access.applications.delete',
  /** Set every binding of a principal in an account (escalation rules enforced). */
  AccessBindingsReplace: 'access.bindings.replace',
  /** Drop every binding of a principal leaving an account. */
  AccessBindingsRemovePrincipal: 'access.bindings.remove-principal',
  /** The bindings of many principals of one account. */
  AccessBindingsOfPrincipals: 'access.bindings.of-principals',
  /** Every principal's roles in every account, a page at a time (identity's backfill of its role projection; not the gateway's). */
  AccessRoleHoldingsPage: 'access.role-holdings.page',
  /** Readiness of identity. */
  IdentityHealth: 'identity.health',

  /** A subuser signs in on its account's page: slug + login + password -> token pair. */
  AuthSubuserLogin: 'identity.auth.subuser-login',
  /** Exchange a refresh token for a new pair (rotation; reuse ends the session). */
  AuthRefresh: 'identity.auth.refresh',
  /** End the session of a refresh token. */
  AuthLogout: 'identity.auth.logout',
  /** Self-service reset request by e-mail (same answer for unknown e-mails). */
  AuthPasswordReset: 'identity.auth.password-reset.request',
  /** Self-service reset request of a subuser (account slug + login). */
  AuthSubuserPasswordReset: 'identity.auth.subuser-password-reset.request',
  /** Set a new password with a reset token; every session ends. */
  AuthPasswordResetConfirm: 'identity.auth.password-reset.confirm',
  /** Move the caller's login to the e-mail address a confirmation link went to. */
  AuthEmailChangeConfirm: 'identity.auth.email-change.confirm',
  /** Move a login back to the address it left (the undo link of the notice mailed there): every session ends, the password is cleared, a reset link goes there. */
  AuthEmailChangeUndo: 'identity.auth.email-change.undo',
  /** Accept an account's invitation (the token mailed to someone who has a login): their membership there becomes what the account set. */
  AuthInvitationAccept: 'identity.auth.invitation.accept',
  /** Decline an account's invitation (the same token): the membership that waited for it goes. */
  AuthInvitationDecline: 'identity.auth.invitation.decline',
  /** The invitations waiting for the caller's answer (someone who has a login, added to accounts). */
  MeInvitationsList: 'identity.me.invitations.list',
  /** The caller accepts an account's invitation (signed in, rather than with the mailed link). */
  MeInvitationAccept: 'identity.me.invitations.accept',
  /** The caller declines an account's invitation (signed in). */
  MeInvitationDecline: 'identity.me.invitations.decline',
  /** The caller edits their own name and phone. */
  MeUpdate: 'identity.me.update',
  /** The caller changes their password (the current one is required). */
  MePasswordChange: 'identity.me.password.change',
  /** The caller asks to move their login to another e-mail (the current password is required; a link goes to the new address). */
  MeEmailChange: 'identity.me.email.change',
  /** The second step of a sign-in: the challenge of the password step and a code (authenticator or recovery code) -> a token pair. */
  AuthSecondStep: 'identity.auth.mfa',
  /** Whether the caller's sign-in takes a second step, and how many recovery codes are left. */
  MeMfaStatus: 'identity.me.mfa.status',
  /** The caller starts setting up an authenticator app (the current password is required): its secret. */
  MeMfaTotpStart: 'identity.me.mfa.totp.start',
  /** The caller confirms the authenticator with its first code: two-step sign-in is on; the recovery codes. */
  MeMfaTotpConfirm: 'identity.me.mfa.totp.confirm',
  /** The caller turns two-step sign-in off (the current password and a code are required). */
  MeMfaDisable: 'identity.me.mfa.disable',
  /** The caller replaces their recovery codes (the current password and a code are required). */
  MeMfaRecoveryCodesRenew: 'identity.me.mfa.recovery-codes.renew',
  /** The caller leaves an account (not one they own). */
  MeLeave: 'identity.me.leave',
  /** The caller's open sessions. */
  MeSessionsList: 'identity.me.sessions.list',
  /** The caller ends one of their sessions. */
  MeSessionsEnd: 'identity.me.sessions.end',
  /** The caller ends every session but the current one. */
  MeSessionsEndOthers: 'identity.me.sessions.end-others',
  /** Revoked sessions and suspended principals a gateway must refuse (loaded at its start). */
  SessionsGateState: 'identity.sessions.gate-state',
  /** The user table of an account: a page of people. */
  UsersList: 'identity.users.list',
  /** One person of an account. */
  UsersGet: 'identity.users.get',
  /** Invite a new person, or add an existing one, to an account. */
  UsersCreate: 'identity.users.create',
  /** Edit a person's name, phone or active flag in an account. */
  UsersUpdate: 'identity.users.update',
  /** Remove a person from an account. */
  UsersRemove: 'identity.users.remove',
  /** Send a pending person a new activation link (the old one stops working). */
  UsersInvitationResend: 'identity.users.invitation.resend',
  /** Withdraw a pending invitation. */
  UsersInvitationRevoke: 'identity.users.invitation.revoke',
  /** An admin has the reset mail sent to a person. */
  UsersPasswordReset: 'identity.users.password-reset',
  /** An admin ends every session of a person. */
  UsersSessionsEnd: 'identity.users.sessions.end',
  /** The subusers of an account, by login. */
  SubusersList: 'identity.subusers.list',
  /** One subuser. */
  SubusersGet: 'identity.subusers.get',
  /** Create a subuser (password or activation mail). */
  SubusersCreate: 'identity.subusers.create',
  /** Edit a subuser's description, active flag, e-mail or password. */
  SubusersUpdate: 'identity.subusers.update',
  /** Delete a subuser (its sessions end). */
  SubusersRemove: 'identity.subusers.remove',
  /** An admin has the reset mail sent to a subuser's e-mail. */
  SubusersPasswordReset: 'identity.subusers.password-reset',
  /** Send a pending subuser a new activation link (the previous one stops working). */
  SubusersInvitationResend: 'identity.subusers.invitation.resend',
  /** An admin lists the open sessions of a subuser. */
  SubusersSessionsList: 'identity.subusers.sessions.list',
  /** An admin ends every session of a subuser. */
  SubusersSessionsEnd: 'identity.subusers.sessions.end',
  /** An admin turns a subuser's second step off (its authenticator lost). */
  SubusersSecondStepReset: 'identity.subusers.second-step.reset',
  /** The names of principals of an account, as its lists show them (the gateway asks only for the kinds the caller may read). */
  PrincipalsDescribe: 'identity.principals.describe',
  /** The service accounts of an account, by name. */
  ServiceAccountsList: 'identity.service-accounts.list',
  /** One service account. */
  ServiceAccountsGet: 'identity.service-accounts.get',
  /** Create a service account (no key yet). */
  ServiceAccountsCreate: 'identity.service-accounts.create',
  /** Rename, describe, deactivate or reactivate a service account (deactivation ends its tokens). */
  ServiceAccountsUpdate: 'identity.service-accounts.update',
  /** Delete a service account (its keys and tokens with it). */
  ServiceAccountsRemove: 'identity.service-accounts.remove',
  /** The keys of a service account (never a secret). */
  ServiceAccountKeysList: 'identity.service-accounts.keys.list',
  /** A new key: its secret is answered this once. */
  ServiceAccountKeysCreate: 'identity.service-accounts.keys.create',
  /** Revoke a key: the tokens issued for it stop working at once. */
  ServiceAccountKeysRevoke: 'identity.service-accounts.keys.revoke',
  /** A key's id and secret -> a short-lived access token (OAuth 2.0 client credentials). */
  AuthToken: 'identity.auth.token',
  /** The audit trail of an account. */
  AuditList: 'identity.audit.list',
  /** An account's audit trail oldest first, in an order no later commit slips behind (to copy it elsewhere). */
  AuditFeed: 'identity.audit.feed',
  /** Readiness of access. */
  AccessHealth: 'access.health',
  /** Readiness of notifications. */
  NotificationsHealth: 'notifications.health',
  /** One page of an account's mail delivery log (recipients masked unless the actor may read members). */
  DeliveriesList: 'notifications.deliveries.list',
} as const;

/** The request and response type of every request/reply subject: a wrong payload is a compile error. */
export interface RpcContracts {
  [Subjects.AccountsSignUp]: { request: CreateAccountRequest; response: AccountView };
  [Subjects.AccountsCreate]: { request: CreateAccountBody; response: AccountView };
  [Subjects.AccountsGet]: { request: GetAccountRequest; response: AccountView };
  [Subjects.AccountsTransferOwnership]: { request: TransferOwnershipRequest; response: AccountView };
  [Subjects.AccountsUpdate]: { request: UpdateAccountRequest; response: AccountView };
  [Subjects.AuthActivate]: { request: ActivateRequest; response: { activated: true } };
  [Subjects.AuthLogin]: { request: LoginRequest; response: TokenPairView | SecondStepView };
  [Subjects.MeGet]: { request: ActorRequest; response: Omit<MeView, 'memberships'> & { accountIds: MeAccountRef[] } };
  [Subjects.KeysList]: { request: Record<string, never>; response: JwksView };
  [Subjects.AccessCheck]: { request: CheckRequest; response: CheckResult };
  [Subjects.AccessRolesOfPrincipal]: { request: RolesOfPrincipalRequest; response: RolesByAccount };
  [Subjects.AccessCheckBatch]: { request: CheckBatchRequest; response: BatchCheckResult[] };
  [Subjects.AccessPermissionsEffective]: { request: EffectivePermissionsRequest; response: PermissionsView };
  [Subjects.AccessApplicationsAllowed]: { request: AllowedApplicationsRequest; response: AllowedApplicationsView };
  [Subjects.AccessCatalogGet]: { request: Record<string, never>; response: CatalogView };
  [Subjects.AccessRolesList]: { request: ListRolesRequest; response: RoleView[] };
  [Subjects.AccessRolesGet]: { request: GetRoleRequest; response: RoleView };
  [Subjects.AccessRolesHolders]: { request: ListRoleHoldersRequest; response: Page<RoleHolderView> };
  [Subjects.AccessRolesCreate]: { request: CreateRoleRequest; response: RoleView };
  [Subjects.AccessRolesUpdate]: { request: UpdateRoleRequest; response: RoleView };
  [Subjects.AccessRolesDelete]: { request: DeleteRoleRequest; response: { deleted: true } };
  [Subjects.AccessApplicationsList]: { request: ListApplicationsRequest; response: Page<ApplicationView> };
  [Subjects.AccessApplicationsCreate]: { request: CreateApplicationRequest; response: ApplicationView };
  [Subjects.AccessApplicationsRename]: { request: RenameApplicationRequest; response: ApplicationView };
  [Subjects.AccessApplicationsDelete]: { request: DeleteApplicationRequest; response: { deleted: true } };
  [Subjects.AccessBindingsReplace]: { request: ReplaceBindingsRequest; response: BindingView[] };
  [Subjects.AccessBindingsRemovePrincipal]: { request: RemovePrincipalRequest; response: RemovedPrincipalView };
  [Subjects.AccessBindingsOfPrincipals]: { request: BindingsOfPrincipalsRequest; response: BindingsByPrincipal };
  [Subjects.AccessRoleHoldingsPage]: { request: RoleHoldingsPageRequest; response: RoleHoldingsPage };
  [Subjects.IdentityHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.AuthSubuserLogin]: { request: SubuserLoginRequest; response: TokenPairView | SecondStepView };
  [Subjects.AuthRefresh]: { request: RefreshRequest; response: TokenPairView };
  [Subjects.AuthLogout]: { request: RefreshRequest; response: { loggedOut: true } };
  [Subjects.AuthPasswordReset]: { request: PasswordResetRequest; response: AcceptedView };
  [Subjects.AuthSubuserPasswordReset]: { request: SubuserPasswordResetRequest; response: AcceptedView };
  [Subjects.AuthPasswordResetConfirm]: { request: PasswordResetConfirmRequest; response: { reset: true } };
  [Subjects.AuthEmailChangeConfirm]: { request: LinkTokenRequest; response: EmailChangedView };
  [Subjects.AuthEmailChangeUndo]: { request: LinkTokenRequest; response: EmailChangedView };
  [Subjects.AuthInvitationAccept]: { request: LinkTokenRequest; response: InvitationAcceptedView };
  [Subjects.AuthInvitationDecline]: { request: LinkTokenRequest; response: InvitationDeclined };
  [Subjects.MeInvitationsList]: { request: ActorClientRequest; response: InvitationView[] };
  [Subjects.MeInvitationAccept]: { request: AccountRequest; response: InvitationAcceptedView };
  [Subjects.MeInvitationDecline]: { request: AccountRequest; response: InvitationDeclined };
  [Subjects.MeUpdate]: { request: UpdateProfileRequest; response: { updated: true } };
  [Subjects.MePasswordChange]: { request: ChangePasswordRequest; response: { changed: true } };
  [Subjects.MeEmailChange]: { request: ChangeEmailRequest; response: AcceptedView };
  [Subjects.MeSessionsList]: { request: ActorClientRequest; response: SessionView[] };
  [Subjects.MeSessionsEnd]: { request: EndOwnSessionRequest; response: { ended: number } };
  [Subjects.MeSessionsEndOthers]: { request: ActorClientRequest; response: { ended: number } };
  [Subjects.AuthSecondStep]: { request: SecondStepRequest; response: TokenPairView };
  [Subjects.MeMfaStatus]: { request: ActorClientRequest; response: MfaStatusView };
  [Subjects.MeMfaTotpStart]: { request: StartTotpRequest; response: TotpEnrolmentView };
  [Subjects.MeMfaTotpConfirm]: { request: ConfirmTotpRequest; response: RecoveryCodesView };
  [Subjects.MeMfaDisable]: { request: SecondFactorChangeRequest; response: { disabled: true } };
  [Subjects.MeMfaRecoveryCodesRenew]: { request: SecondFactorChangeRequest; response: RecoveryCodesView };
  [Subjects.MeLeave]: { request: AccountRequest; response: { left: true } };
  [Subjects.SessionsGateState]: { request: GateStateRequest; response: GateStatePage };
  [Subjects.UsersList]: { request: ListUsersRequest; response: Page<UserRecord> };
  [Subjects.UsersGet]: { request: UserRequest; response: UserRecord };
  [Subjects.UsersCreate]: { request: CreateUserRequest; response: CreatedView };
  [Subjects.UsersUpdate]: { request: UpdateUserRequest; response: UserRecord };
  [Subjects.UsersRemove]: { request: UserRequest; response: { removed: true } };
  [Subjects.UsersInvitationResend]: { request: UserRequest; response: AcceptedView };
  [Subjects.UsersInvitationRevoke]: { request: UserRequest; response: { removed: true } };
  [Subjects.UsersPasswordReset]: { request: UserRequest; response: AcceptedView };
  [Subjects.UsersSessionsEnd]: { request: UserRequest; response: { ended: number } };
  [Subjects.SubusersList]: { request: ListSubusersRequest; response: Page<SubuserRecord> };
  [Subjects.SubusersGet]: { request: SubuserRequest; response: SubuserRecord };
  [Subjects.SubusersCreate]: { request: CreateSubuserRequest; response: CreatedSubuserView };
  [Subjects.SubusersUpdate]: { request: UpdateSubuserRequest; response: SubuserRecord };
  [Subjects.SubusersRemove]: { request: SubuserRequest; response: { removed: true } };
  [Subjects.SubusersPasswordReset]: { request: SubuserRequest; response: AcceptedView };
  [Subjects.SubusersInvitationResend]: { request: SubuserRequest; response: AcceptedView };
  [Subjects.SubusersSessionsList]: { request: SubuserRequest; response: SessionView[] };
  [Subjects.SubusersSessionsEnd]: { request: SubuserRequest; response: { ended: number } };
  [Subjects.SubusersSecondStepReset]: { request: SubuserRequest; response: { reset: true } };
  [Subjects.PrincipalsDescribe]: { request: DescribePrincipalsRequest; response: PrincipalDescriptions };
  [Subjects.ServiceAccountsList]: { request: ListServiceAccountsRequest; response: Page<ServiceAccountRecord> };
  [Subjects.ServiceAccountsGet]: { request: ServiceAccountRequest; response: ServiceAccountRecord };
  [Subjects.ServiceAccountsCreate]: { request: CreateServiceAccountRequest; response: CreatedServiceAccountView };
  [Subjects.ServiceAccountsUpdate]: { request: UpdateServiceAccountRequest; response: ServiceAccountRecord };
  [Subjects.ServiceAccountsRemove]: { request: ServiceAccountRequest; response: { removed: true } };
  [Subjects.ServiceAccountKeysList]: { request: ServiceAccountRequest; response: ServiceAccountKeyView[] };
  [Subjects.ServiceAccountKeysCreate]: { request: CreateServiceAccountKeyRequest; response: CreatedServiceAccountKeyView };
  [Subjects.ServiceAccountKeysRevoke]: { request: ServiceAccountKeyRequest; response: { revoked: true } };
  [Subjects.AuthToken]: { request: ClientCredentialsRequest; response: ClientCredentialsTokenView };
  [Subjects.AuditList]: { request: ListAuditEventsRequest; response: Page<AuditEventView> };
  [Subjects.AuditFeed]: { request: FeedAuditEventsRequest; response: AuditFeedPageView };
  [Subjects.AccessHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.NotificationsHealth]: { request: Record<string, never>; response: HealthView };
  [Subjects.DeliveriesList]: { request: ListDeliveriesRequest; response: DeliveryPage };
}

/** An account the caller belongs to, as identity knows it (roles come from access). */
export interface MeAccountRef {
  accountId: string;
  accountName: string;
  accountSlug: string;
  /** Whether the account refuses sessions opened without a second step. */
  requireSecondStep: boolean;
}

/** Any request/reply subject. */
export type RpcSubject = keyof RpcContracts;
/** The request type of subject S. */
export type RpcRequest<S extends RpcSubject> = RpcContracts[S]['request'];
/** The response type of subject S. */
export type RpcResponse<S extends RpcSubject> = RpcContracts[S]['response'];
