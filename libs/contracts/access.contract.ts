import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { CodePointLength, IsDescription, IsName, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from './text-length.js';
import { ApiProperty, ApiPropertyOptional, PickType } from './api-docs.js';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsInt, IsOptional, IsString, Max, Min, ValidateBy } from 'class-validator';
import { Nested } from './nested.js';
import { Omittable } from './omittable.js';
import { Principal } from './actor.js';
import { ClientContext } from './shared.dto.js';
import { PageQuery } from './account-request.js';
import { IsNotUuid, IsUuid } from './uuid.js';

/** `access.check`: may this principal do this action on this section of this account (and application)? */
export class CheckRequest {
  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  @IsUuid()
  accountId: string;

  @ApiProperty({ example: 'scenarios', minLength: 1, maxLength: 100 })
  @IsString()
  @CodePointLength(1, 100)
  section: string;

  @ApiProperty({ example: 'read', minLength: 1, maxLength: 50 })
  @IsString()
  @CodePointLength(1, 50)
  action: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUuid()
  applicationId?: string;

  /**
   * The account's version the asker last heard of in `access.changed`. A replica holding an older
   * one (that broadcast has not reached it yet: a NATS cluster can deliver it by another route than
   * the question) reloads the account before deciding, so that a decision asked after a change never
   * predates it. Gateways send it for a minute after they hear a change; other callers need not.
   */
  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  atLeastVersion?: number;
}

/**
 * Why a decision came out as it did. `not-member`: the principal has nothing in that account;
 * `inactive`: it is deactivated there, and refused everything whatever its roles (the gateway
 * answers 404 to both).
 */
export type CheckReason = 'owner' | 'granted' | 'not-granted' | 'not-member' | 'inactive';

/** Whether a refusal says the principal has no place in the account (not a member, or deactivated there): answered 404, as for another tenant. */
export function isOutsider(reason: CheckReason): boolean {
  return reason === 'not-member' || reason === 'inactive';
}

/** The answer to a {@link CheckRequest}. */
export interface CheckResult {
  allowed: boolean;
  reason: CheckReason;
}

/** `access.roles.of-principal`: the role names a principal holds in each of the given accounts. */
export class RolesOfPrincipalRequest {
  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsUuid({ each: true })
  accountIds: string[];
}

/** Account id -> role names (the owner's role first). */
export type RolesByAccount = Record<string, { roles: string[]; owner: boolean }>;

/**
 * Portico's own permissions, which every catalogue maps onto its sections (`system:` block of the
 * catalogue file). Gateway routes on Portico's own resources declare one of these.
 */
export const SYSTEM_PERMISSIONS = {
  'account:read': 'Read the account',
  'account:write': 'Rename the account, change its settings',
  'members:read': 'See the user table',
  'members:write': 'Invite users, edit them, change their roles, send reset mails, end their sessions',
  'members:delete': 'Remove users from the account',
  'subusers:read': 'See subusers',
  'subusers:write': 'Create and edit subusers',
  'subusers:delete': 'Delete subusers',
  'service-accounts:read': 'See service accounts and their API keys (never a secret)',
  'service-accounts:write': 'Create and edit service accounts, create their API keys',
  'service-accounts:delete': 'Delete service accounts, revoke their API keys',
  'roles:read': 'See roles',
  'roles:write': 'Create and edit custom roles',
  'roles:delete': 'Delete custom roles',
  'applications:read': 'See applications',
  'applications:write': 'Create and rename applications',
  'applications:delete': 'Delete applications',
  'audit:read': 'Read the audit log',
  'deliveries:read': 'Read the mail delivery log',
} as const;

/** One of {@link SYSTEM_PERMISSIONS}, as `section:action`. */
export type SystemPermission = keyof typeof SYSTEM_PERMISSIONS;

/** A role held by a principal in an account, all applications (`applicationIds: null`) or some. */
export class BindingInput {
  @ApiProperty({ description: 'Role name (built-in names as in the catalogue) or role id', example: 'Developer', maxLength: MAX_NAME_LENGTH })
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  role: string;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Limit the role to these applications; absent or null: all' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUuid({ each: true })
  applicationIds?: string[] | null;
}

/** A binding as the API shows it. */
export interface BindingView {
  roleId: string;
  role: string;
  /** null: every application of the account. */
  applicationIds: string[] | null;
}

/**
 * `access.bindings.replace`: set every binding of `principal` in `accountId`, on behalf of `actor`.
 * Refused (FORBIDDEN) when it would grant what the actor lacks, touch the owner, or change the
 * actor's own bindings. With `dryRun`, only checks (used before creating the principal). With
 * `onlyIfUnbound`, only while the principal holds no binding in the account (CONFLICT otherwise,
 * nothing written): what gives back the bindings a removal took, should the step after it fail,
 * without overwriting a change of them made meanwhile. With `expected`, only while the principal
 * holds exactly those bindings (CONFLICT with {@link BINDINGS_CHANGED} otherwise, nothing written):
 * what an edit built from the bindings it read sends, so that a change of them made since the read
 * is never overwritten.
 */
export class ReplaceBindingsRequest {
  @IsDefined()
  @Nested(() => Principal)
  actor: Principal;

  @IsUuid()
  accountId: string;

  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  @IsArray()
  @ArrayMaxSize(50)
  @Nested(() => BindingInput, { each: true })
  bindings: BindingInput[];

  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  /** Only while the principal holds no binding (as a removal left it), judged in the change: CONFLICT otherwise. */
  @IsOptional()
  @IsBoolean()
  onlyIfUnbound?: boolean;

  /**
   * The bindings the caller read (roles by id or name, applications in any order, the owner's
   * pseudo-binding left out): judged in the change, CONFLICT ({@link BINDINGS_CHANGED}) when the
   * principal holds anything else now.
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Nested(() => BindingInput, { each: true })
  expected?: BindingInput[];
  /** Where the request came from (the gateway sends it): the client address the audit trail records with the change. */
  @IsOptional()
  @Nested(() => ClientContext)
  client?: ClientContext;
}

/**
 * `details.reason` of the CONFLICT `access.bindings.replace` answers when the principal's bindings
 * are not the `expected` ones (someone changed them since the caller read them); nothing was written.
 */
export const BINDINGS_CHANGED = 'bindings-changed';

/** Whether an error is access's refusal of a replacement whose `expected` bindings are no longer held. */
export function isBindingsChanged(error: unknown): boolean {
  if (!(error instanceof DomainError) || error.code !== ErrorCode.Conflict) return false;
  return (error.details as { reason?: unknown } | undefined)?.reason === BINDINGS_CHANGED;
}

/**
 * `access.bindings.remove-principal`: drop every binding of a principal leaving the account (user
 * removed, subuser deleted). With `actor`, judged as replacing the principal's bindings with none on
 * the actor's behalf (FORBIDDEN when the principal holds permissions the actor lacks, or is the
 * actor), in the change that unbinds; without, only "not the owner" (someone leaving, or declining).
 */
export class RemovePrincipalRequest {
  /** Who removes the principal (an admin); absent when the principal leaves by itself. */
  @IsOptional()
  @Nested(() => Principal)
  actor?: Principal;

  @IsUuid()
  accountId: string;

  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  /**
   * Without `actor`: whom the audit trail names as having unbound the principal, not judged (the
   * caller whose request made sure a removed principal holds nothing); absent, the principal itself.
   */
  @IsOptional()
  @Nested(() => Principal)
  by?: Principal;
}

/** The answer of `access.bindings.remove-principal`. */
export interface RemovedPrincipalView {
  removed: number;
  /**
   * The bindings dropped, as they were in the change that dropped them (a role given since the caller
   * read them included): what to give back should the removal be undone. Absent from an access of
   * the release before.
   */
  bindings?: BindingView[];
}

/** `access.bindings.of-principals`: the bindings of many principals of one account (to compose the user table). */
export class BindingsOfPrincipalsRequest {
  @IsUuid()
  accountId: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @Nested(() => Principal, { each: true })
  principals: Principal[];
}

/** Principal id -> its bindings in the account. */
export type BindingsByPrincipal = Record<string, BindingView[]>;

/** Broadcast subject (plain NATS, every gateway replica listens): decisions for this account changed. */
export const ACCESS_CHANGED = 'access.changed';

/**
 * How long a gateway keeps an access decision it cached at most: a change whose {@link ACCESS_CHANGED}
 * was never sent stops being answered from a cache this long after it.
 */
export const DECISION_CACHE_LIFETIME_MS = 60_000;

/** The payload of {@link ACCESS_CHANGED}. */
export interface AccessChangedEvent {
  accountId: string;
  /** The principal whose rights changed; absent: anyone in the account (a role changed). */
  principalId?: string;
  /** The account's committed version after the change: a replica holding it already need not reload. */
  version?: number;
}

/** `access.check.batch`: many decisions in one message, one result each (in order). */
export class CheckBatchRequest {
  @IsArray()
  @ArrayMaxSize(1000)
  @Nested(() => CheckRequest, { each: true })
  checks: CheckRequest[];
}

/** One result of a batch: the decision, or the error of that check alone (e.g. an unknown section). */
export type BatchCheckResult = CheckResult | { error: { code: string; message: string } };

/** `access.permissions.effective`: what a principal may do in an account (in one application, if given). */
export class EffectivePermissionsRequest {
  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  @IsUuid()
  accountId: string;

  @IsOptional()
  @IsUuid()
  applicationId?: string;
}

/** One section and the actions allowed on it. */
export class Grant {
  @ApiProperty({ example: 'scenarios', minLength: 1, maxLength: 100 })
  @IsString()
  @CodePointLength(1, 100)
  section: string;

  @ApiProperty({ type: [String], example: ['read', 'write'], maxItems: 50, description: 'Each 1 to 50 characters' })
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @CodePointLength(1, 50, { each: true })
  actions: string[];
}

/** The caller's effective permissions (`GET /v1/accounts/{id}/permissions`). */
export class PermissionsView {
  @ApiProperty() owner: boolean;
  @ApiProperty({ type: [Grant] }) grants: Grant[];
  @ApiProperty({ type: [String], description: "Portico's own permissions held (e.g. members:write)" }) system: string[];
}

/** `access.applications.allowed`: where a principal may do `action` on `section` (to filter lists). */
export class AllowedApplicationsRequest {
  @IsDefined()
  @Nested(() => Principal)
  principal: Principal;

  @IsUuid()
  accountId: string;

  @IsString()
  @CodePointLength(1, 100)
  section: string;

  @IsString()
  @CodePointLength(1, 50)
  action: string;
}

/** The answer to {@link AllowedApplicationsRequest}: `all` when not limited. */
export interface AllowedApplicationsView {
  all: boolean;
  applicationIds: string[];
}

/** A section of the catalogue. */
export class SectionView {
  @ApiProperty() key: string;
  @ApiProperty() label: string;
  @ApiProperty({ enum: ['account', 'application'] }) scope: 'account' | 'application';
  @ApiProperty({ type: [String] }) actions: string[];
}

/** `GET /v1/sections`. */
export class CatalogView {
  @ApiProperty() name: string;
  @ApiProperty({ description: "The owner's role name" }) ownerRole: string;
  @ApiProperty({ type: [SectionView] }) sections: SectionView[];
}

/** A role as the API shows it. */
export class RoleView {
  @ApiProperty({ description: 'builtin:<Name> for built-in roles, a UUID for custom ones' }) id: string;
  @ApiProperty() name: string;
  @ApiPropertyOptional({ type: String, nullable: true }) description: string | null;
  @ApiProperty() builtin: boolean;
  @ApiProperty({ type: [Grant] }) grants: Grant[];
  @ApiProperty({ description: 'Principals holding it in this account' }) holders: number;
}

/** `POST /v1/accounts/{id}/roles`. */
export class CreateRoleBody {
  @ApiProperty({
    example: 'Call auditor',
    maxLength: MAX_NAME_LENGTH,
    description: 'Unique in the account (case ignored); not a UUID (roles are named by id or name)',
  })
  @IsName(MAX_NAME_LENGTH)
  @IsNotUuid()
  name: string;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @Omittable()
  @IsDescription()
  description?: string;

  @ApiPropertyOptional({ type: [Grant], description: 'Required unless `from` is given', example: [{ section: 'scenarios', actions: ['read'] }] })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(500)
  @Nested(() => Grant, { each: true })
  grants?: Grant[];

  @ApiPropertyOptional({ description: 'Copy the grants of this role (id or name); not with `grants`', maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  @NotWith('grants', 'copy a role, or list the grants')
  from?: string;
}

/** Refuses the field beside `other`: the two say the same thing two ways, and one would be silently ignored. `hint`: what to do instead. */
function NotWith(other: string, hint: string): PropertyDecorator {
  return ValidateBy({
    name: 'notWith',
    constraints: [other],
    validator: {
      validate: (_value: unknown, args) => (args?.object as Record<string, unknown> | undefined)?.[other] === undefined,
      defaultMessage: (args) => `${args?.property ?? 'field'} and ${other} cannot both be given: ${hint}`,
    },
  });
}

/** `PATCH /v1/accounts/{id}/roles/{roleId}`: any of the creation fields but `from`; `description: null` clears it, `name: null` is refused. */
export class UpdateRoleBody extends PickType(CreateRoleBody, ['grants'] as const) {
  @ApiPropertyOptional({
    example: 'Call auditor',
    maxLength: MAX_NAME_LENGTH,
    description: 'Unique in the account (case ignored); not a UUID (roles are named by id or name)',
  })
  @Omittable()
  @IsName(MAX_NAME_LENGTH)
  @IsNotUuid()
  name?: string;

  @ApiPropertyOptional({ type: String, maxLength: MAX_DESCRIPTION_LENGTH, nullable: true, description: 'null clears it' })
  @IsOptional()
  @IsDescription()
  description?: string | null;
}

/** An actor acting on one account's access objects. */
class AccountActorRequest {
  @IsDefined()
  @Nested(() => Principal)
  actor: Principal;

  @IsUuid()
  accountId: string;
}

/** A change of one account's access objects: recorded in the account's audit trail, with where the request came from. */
class AccountChangeRequest extends AccountActorRequest {
  /** Where the request came from (the gateway sends it); absent from an internal service's call. */
  @IsOptional()
  @Nested(() => ClientContext)
  client?: ClientContext;
}

/** `access.roles.list`. */
export class ListRolesRequest extends AccountActorRequest {}

/** `access.roles.get`: one role of the account, as the list shows it. */
export class GetRoleRequest extends AccountActorRequest {
  /** The role's id, as for {@link UpdateRoleRequest}; a name, or another account's role, names nothing (NOT_FOUND). */
  @IsString()
  @CodePointLength(1, 120)
  roleId: string;
}

/** `access.roles.holders`: a page of the principals holding a role (the role named as for {@link GetRoleRequest}). */
export class ListRoleHoldersRequest extends GetRoleRequest {
  /** Without it, the first page of the default size. */
  @IsOptional()
  @Nested(() => PageQuery)
  query?: PageQuery;
}

/** A principal holding a role, and where: what `GET /v1/accounts/{id}/roles/{roleId}/holders` lists. */
export class RoleHolderView {
  @ApiProperty({ type: Principal }) principal: Principal;

  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'The applications the role is held in (sorted), as a binding names them; null: every application of the account',
  })
  applicationIds: string[] | null;

  @ApiPropertyOptional({
    description:
      "A person's name as the user table shows it (to a caller who may read people, `members:read`); a subuser's login (to a caller who may read subusers, `subusers:read`); a service account's name (`service-accounts:read`)",
  })
  name?: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: "The principal's e-mail, beside `name`" })
  email?: string | null;
}

/** A page of a role's holders, by principal type, then id. */
export class RoleHolderPageView {
  @ApiProperty({ type: [RoleHolderView] }) items: RoleHolderView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `access.roles.create`. */
export class CreateRoleRequest extends AccountChangeRequest {
  @IsDefined()
  @Nested(() => CreateRoleBody)
  body: CreateRoleBody;
}

/** `access.roles.update`. */
export class UpdateRoleRequest extends AccountChangeRequest {
  /** The role's id (`builtin:<Name>` or a custom role's UUID); a name names nothing (NOT_FOUND). */
  @IsString()
  @CodePointLength(1, 120)
  roleId: string;

  @IsDefined()
  @Nested(() => UpdateRoleBody)
  body: UpdateRoleBody;
}

/** `access.roles.delete`. */
export class DeleteRoleRequest extends AccountChangeRequest {
  /** The role's id, as for {@link UpdateRoleRequest}. */
  @IsString()
  @CodePointLength(1, 120)
  roleId: string;
}

/** An application: only its id and name live in Portico. */
export class ApplicationView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** A page of applications, by name. */
export class ApplicationPageView {
  @ApiProperty({ type: [ApplicationView] }) items: ApplicationView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `GET /v1/accounts/{id}/applications?search=&limit=&cursor=`: a page, by name (case ignored). */
export class ListApplicationsQuery extends PageQuery {
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'Keeps the applications whose name contains it, case ignored' })
  @IsOptional()
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  search?: string;
}

/** `POST` and `PATCH /v1/accounts/{id}/applications`. */
export class ApplicationBody {
  @ApiProperty({ example: 'Support line', maxLength: MAX_NAME_LENGTH })
  @IsName(MAX_NAME_LENGTH)
  name: string;
}

/**
 * `access.applications.list`: a page of the applications the actor may see something of (all of
 * them when it holds an unlimited binding). Without `query`, the first page of the default size.
 */
export class ListApplicationsRequest extends AccountActorRequest {
  @IsOptional()
  @Nested(() => ListApplicationsQuery)
  query?: ListApplicationsQuery;
}

/** `access.applications.create`. */
export class CreateApplicationRequest extends AccountChangeRequest {
  @IsDefined()
  @Nested(() => ApplicationBody)
  body: ApplicationBody;
}

/** `access.applications.rename`. */
export class RenameApplicationRequest extends AccountChangeRequest {
  @IsUuid()
  applicationId: string;

  @IsDefined()
  @Nested(() => ApplicationBody)
  body: ApplicationBody;
}

/** `access.applications.delete`: bindings limited to it lose it. */
export class DeleteApplicationRequest extends AccountChangeRequest {
  @IsUuid()
  applicationId: string;
}
