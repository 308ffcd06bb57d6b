import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { RoleFilter } from './role-filter.js';
import { IsBoolean, IsDefined, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { Nested } from './nested.js';
import { EditedApplications, HeldRoles, LimitedToApplications } from './held-roles.js';
import { AccountRequest, PageQuery } from './account-request.js';
import { LowerCasesAlike } from './accounts.contract.js';
import { PASSWORD_MAX_LENGTH } from './auth.contract.js';
import { ActiveFilter, CreatedView, PERSON_STATUSES, SearchTerm, StatusFilter, type PersonStatus } from './users.contract.js';
import { Omittable } from './omittable.js';
import { IsUuid } from './uuid.js';
import { CodePointLength, IsDescription, MAX_DESCRIPTION_LENGTH } from './text-length.js';
import { IsMailableEmail } from './email-address.js';

/** Subuser logins: letters, digits, dots, dashes and underscores, starting and ending with a letter or digit. Stored lower-cased. */
export const SUBUSER_LOGIN_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

/** `POST /v1/accounts/{accountId}/subusers`: either `password` (the policy applies) or `email` for an activation mail. */
export class CreateSubuserBody {
  @ApiProperty({ example: 'support-1', description: 'Unique in the account; stored lower-cased', maxLength: 64 })
  @IsString()
  @Matches(SUBUSER_LOGIN_PATTERN, { message: 'login may hold only letters, digits, dots, dashes and underscores (1 to 64)' })
  login: string;

  @ApiPropertyOptional({ example: 'support@example.com', description: 'For the activation and reset mails' })
  @Omittable()
  @IsMailableEmail()
  @CodePointLength(0, 254)
  @LowerCasesAlike()
  email?: string;

  @ApiPropertyOptional({ description: 'Initial password; without it, an activation mail goes to email', maxLength: PASSWORD_MAX_LENGTH })
  @Omittable()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password?: string;

  @ApiProperty({ type: [String], example: ['Developer'], description: 'Role names (or ids) from the account catalogue' })
  @HeldRoles()
  roles: string[];

  @ApiPropertyOptional({ type: [String], description: 'Limit the roles to these applications; absent: all applications' })
  @Omittable()
  @LimitedToApplications()
  applicationIds?: string[];

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @Omittable()
  @IsDescription()
  description?: string;
}

/** `PATCH /v1/accounts/{accountId}/subusers/{subuserId}`: only the fields given change. */
export class UpdateSubuserBody {
  @ApiPropertyOptional({ type: [String] })
  @Omittable()
  @HeldRoles()
  roles?: string[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    description: 'null: every application; absent: the applications its roles are limited to now (required with roles when it holds none)',
  })
  @EditedApplications()
  applicationIds?: string[] | null;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @Omittable()
  @IsDescription()
  description?: string;

  @ApiPropertyOptional({ description: 'false: the subuser cannot sign in; its sessions end at once' })
  @Omittable()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ description: 'A new password (the policy applies); the subuser is signed out everywhere', maxLength: PASSWORD_MAX_LENGTH })
  @Omittable()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsMailableEmail()
  @CodePointLength(0, 254)
  @LowerCasesAlike()
  email?: string | null;
}

/** A subuser as the API shows it. */
export class SubuserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() login: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every application' }) applicationIds: string[] | null;
  @ApiProperty() active: boolean;
  @ApiProperty({ enum: PERSON_STATUSES, description: 'pending: no password yet (activation mail sent)' }) status: PersonStatus;
  @ApiProperty({ description: 'Whether signing in takes a second step (an authenticator app); an admin may turn it off (DELETE .../mfa)' })
  mfaEnabled: boolean;
  @ApiProperty({
    description:
      'Whether its second step is blocked after too many wrong codes within 30 days: it cannot sign in (423 SECOND_STEP_BLOCKED) until its password is reset or changed, or an admin turns its second step off (DELETE .../mfa). false when it is off',
  })
  mfaBlocked: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastLoginAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** A subuser as identity knows it (roles and applications come from access). */
export type SubuserRecord = Omit<SubuserView, 'roles' | 'applicationIds'>;

/** A page of subusers, by login. */
export class SubuserPageView {
  @ApiProperty({ type: [SubuserView] }) items: SubuserView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `GET /v1/accounts/{accountId}/subusers`: the subusers by login, found and filtered. */
export class ListSubusersQuery extends PageQuery {
  @SearchTerm('login, e-mail and description')
  search?: string;

  @StatusFilter('pending: no password set yet (an activation mail waits); active: it has one')
  status?: PersonStatus;

  @ActiveFilter('false: only the deactivated subusers; true: only those who may sign in')
  active?: boolean;

  @RoleFilter('the subusers')
  role?: string[];
}

/** `identity.subusers.list`. */
export class ListSubusersRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => ListSubusersQuery)
  query: ListSubusersQuery;
}

/** A request about one subuser of the account. */
export class SubuserRequest extends AccountRequest {
  @IsUuid()
  subuserId: string;
}

/** `identity.subusers.create`: roles and applications are carried for the audit trail; access holds the bindings. */
export class CreateSubuserRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => CreateSubuserBody)
  body: CreateSubuserBody;

  /**
   * The gateway's key for this create (NATS only, never from an HTTP body): the same create sent
   * again with it, after an answer was lost, is done once and answers the same subuser.
   */
  @Omittable()
  @IsUuid()
  requestKey?: string;
}

/** `identity.subusers.update`. */
export class UpdateSubuserRequest extends SubuserRequest {
  @IsDefined()
  @Nested(() => UpdateSubuserBody)
  body: UpdateSubuserBody;
}

/** What creating a subuser answers: its id, and the account's subuser login page (where it signs in). */
export class CreatedSubuserView extends CreatedView {
  @ApiProperty({ description: "The account's subuser login page, under PUBLIC_WEB_URL with the slug" }) subuserLoginUrl: string;
}
