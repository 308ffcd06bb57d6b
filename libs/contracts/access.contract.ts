import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { Principal } from './actor.js';

/** `access.check`: may this principal do this action on this section of this account (and application)? */
export class CheckRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;

  @IsUUID()
  accountId: string;

  @ApiProperty({ example: 'scenarios' })
  @IsString()
  @Length(1, 100)
  section: string;

  @ApiProperty({ example: 'read' })
  @IsString()
  @Length(1, 50)
  action: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  applicationId?: string;
}

/** Why a decision came out as it did. `not-member`: the principal has nothing in that account (the gateway answers 404). */
export type CheckReason = 'owner' | 'granted' | 'not-granted' | 'not-member';

/** The answer to a {@link CheckRequest}. */
export interface CheckResult {
  allowed: boolean;
  reason: CheckReason;
}

/** `access.roles.of-principal`: the role names a principal holds in each of the given accounts. */
export class RolesOfPrincipalRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
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
  @ApiProperty({ description: 'Role name (built-in names as in the catalogue) or role id', example: 'Developer' })
  @IsString()
  @Length(1, 100)
  role: string;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Limit the role to these applications; absent or null: all' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
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
 * actor's own bindings. With `dryRun`, only checks (used before creating the principal).
 */
export class ReplaceBindingsRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  actor: Principal;

  @IsUUID()
  accountId: string;

  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;

  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => BindingInput)
  bindings: BindingInput[];

  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

/** `access.bindings.remove-principal`: drop every binding of a principal leaving the account (user removed, subuser deleted). */
export class RemovePrincipalRequest {
  @IsUUID()
  accountId: string;

  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;
}

/** `access.bindings.of-principals`: the bindings of many principals of one account (to compose the user table). */
export class BindingsOfPrincipalsRequest {
  @IsUUID()
  accountId: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => Principal)
  principals: Principal[];
}

/** Principal id -> its bindings in the account. */
export type BindingsByPrincipal = Record<string, BindingView[]>;

/** Broadcast subject (plain NATS, every gateway replica listens): decisions for this account changed. */
export const ACCESS_CHANGED = 'access.changed';

/** The payload of {@link ACCESS_CHANGED}. */
export interface AccessChangedEvent {
  accountId: string;
  /** The principal whose rights changed; absent: anyone in the account (a role changed). */
  principalId?: string;
}
