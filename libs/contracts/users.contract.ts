import { applyDecorators } from '@nestjs/common';
import { IsPersonName } from './person-name.js';
import { CodePointLength, MAX_NAME_LENGTH } from './text-length.js';
import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { IsBoolean, IsDefined, IsIn, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import { Nested } from './nested.js';
import { Omittable } from './omittable.js';
import { AccountRequest, ActorClientRequest, PageQuery } from './account-request.js';
import { E164_PATTERN, IsLocale, PersonBody } from './accounts.contract.js';
import { IsUuid } from './uuid.js';
import { QueryBoolean } from './query-boolean.js';
import { RoleFilter } from './role-filter.js';

/** Columns the user table sorts by. */
export const USER_SORTS = ['name', 'email', 'lastLoginAt', 'createdAt'] as const;
/** One of {@link USER_SORTS}. */
export type UserSort = (typeof USER_SORTS)[number];
/** Sort directions. */
export const SORT_ORDERS = ['asc', 'desc'] as const;
/** One of {@link SORT_ORDERS}. */
export type SortOrder = (typeof SORT_ORDERS)[number];
/** Shortest search term, in characters left once it is folded, spaces aside: shorter terms cannot use the trigram index and match too much. */
export const MIN_SEARCH_LENGTH = 3;
/** What a search term too short is told, by the gateway and by identity alike. */
export const SEARCH_TOO_SHORT = `search must hold at least ${MIN_SEARCH_LENGTH} characters that are not spaces nor accents alone`;
/**
 * Combining marks that attach to letters of any script (the blocks of combining diacritical marks,
 * their extension and supplement, those for symbols, half marks): accent folding (unaccent) drops
 * them, so three of them alone would search for nothing, that is, everyone. The marks of one
 * script (Devanagari vowel signs, Thai, Arabic) stay: folding keeps them, and they are searched.
 */
const FOLDED_AWAY = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;

/** How many characters (code points) of a search term are looked for: those folding keeps, spaces aside. */
export function searchableLength(term: string): number {
  return [...term.replace(FOLDED_AWAY, '').replace(/\s/g, '')].length;
}

/**
 * Refuses, naming the field, a search term with fewer than {@link MIN_SEARCH_LENGTH} characters
 * that folding keeps ({@link searchableLength}). Identity checks the term once more as PostgreSQL
 * folds it (its unaccent rules may drop more), before it searches.
 */
function IsSearchable(): PropertyDecorator {
  return ValidateBy({
    name: 'isSearchable',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || searchableLength(value) >= MIN_SEARCH_LENGTH,
      defaultMessage: () => SEARCH_TOO_SHORT,
    },
  });
}

/**
 * An optional `search` of a list: at most 100 characters, and at least {@link MIN_SEARCH_LENGTH}
 * that folding keeps ({@link IsSearchable}: one message, not two for the same fault), looked for
 * case and accents ignored in what `matches` says.
 */
export function SearchTerm(matches: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      minLength: MIN_SEARCH_LENGTH,
      maxLength: 100,
      description: `Matches ${matches}; case and accents ignored. At least 3 characters besides spaces and accents`,
    }),
    IsOptional(),
    IsString(),
    CodePointLength(0, 100),
    IsSearchable(),
  );
}

/** Whether a person (or a subuser) has set their password yet. */
export const PERSON_STATUSES = ['pending', 'active'] as const;
/** One of {@link PERSON_STATUSES}. */
export type PersonStatus = (typeof PERSON_STATUSES)[number];

/** An optional `status` filter of a list of people or subusers: one of {@link PERSON_STATUSES}, as `description` says of each. */
export function StatusFilter(description: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ enum: PERSON_STATUSES, description }), IsOptional(), IsIn(PERSON_STATUSES));
}

/** An optional `active` filter of a list of people or subusers: `true` or `false` ({@link QueryBoolean}), as `description` says of each. */
export function ActiveFilter(description: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: Boolean, description }), IsOptional(), QueryBoolean());
}

/** `GET /v1/accounts/{accountId}/users`: the user table's query. */
export class ListUsersQuery extends PageQuery {
  @SearchTerm('name, e-mail and phone')
  search?: string;

  @ApiPropertyOptional({ enum: USER_SORTS, default: 'name' })
  @IsOptional()
  @IsIn(USER_SORTS)
  sort?: UserSort;

  @ApiPropertyOptional({ enum: SORT_ORDERS, default: 'asc' })
  @IsOptional()
  @IsIn(SORT_ORDERS)
  order?: SortOrder;

  @StatusFilter('pending: invited, not yet activated or accepted; active: working with a password')
  status?: PersonStatus;

  @ActiveFilter('false: only the people deactivated in this account; true: only the others')
  active?: boolean;

  @RoleFilter('the people')
  role?: string[];
}

/** `POST /v1/accounts/{accountId}/users`: a person and their role in this account. */
export class CreateUserBody extends PersonBody {
  @ApiProperty({ description: 'Role name (as in the catalogue, or a custom role of the account) or role id', example: 'Admin', maxLength: MAX_NAME_LENGTH })
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  role: string;
}

/** `PATCH /v1/accounts/{accountId}/users/{userId}`: only the fields given change. */
export class UpdateUserBody {
  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsPersonName()
  firstName?: string;

  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsPersonName()
  lastName?: string;

  @ApiPropertyOptional({ example: '+447700900123', description: 'E.164, with the international prefix' })
  @Omittable()
  @IsString()
  @Matches(E164_PATTERN, { message: 'phone must be in international format, e.g. +447700900123' })
  phone?: string;

  @ApiPropertyOptional({ description: 'The one role of this person in this account (name or id)', maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  role?: string;

  @ApiPropertyOptional({ description: 'false: the person can no longer work in this account; their access ends at once' })
  @Omittable()
  @IsBoolean()
  active?: boolean;
}

/** A row of the user table. */
export class UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() firstName: string;
  @ApiProperty() lastName: string;
  @ApiProperty({ description: 'The login e-mail' }) email: string;
  @ApiProperty() phone: string;
  @ApiProperty({ type: [String], description: 'Role names held in this account' }) roles: string[];
  @ApiProperty({ description: 'The account owner (every permission; cannot be removed or demoted)' }) owner: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastLoginAt: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the person was added to this account' }) createdAt: string;
  @ApiProperty({ description: 'false: may not work in this account' }) active: boolean;
  @ApiProperty({
    enum: PERSON_STATUSES,
    description:
      'pending: has not joined yet (a new person has not set a password; someone who has a login has not accepted the invitation). Until then, name, e-mail and phone are as the account typed them',
  })
  status: PersonStatus;
  @ApiProperty({ description: 'The person signs in with two steps (an authenticator app); false while pending' }) mfaEnabled: boolean;
  @ApiProperty({
    description:
      'The person cannot sign in: too many wrong codes within 30 days blocked their second step (423 SECOND_STEP_BLOCKED). Lifted by a new password (a reset link, or a change from a session they still have), by the operator turning their second step off (npm run second-step-reset), or by the person turning it off from such a session. false while pending or when two-step sign-in is off',
  })
  mfaBlocked: boolean;
}

/** A row of the user table as identity knows it (roles come from access). */
export type UserRecord = Omit<UserView, 'roles'>;

/** A page of the user table. */
export class UserPageView {
  @ApiProperty({ type: [UserView] }) items: UserView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** What a create answers: the id only, the same whether the person was new or already had a login. */
export class CreatedView {
  @ApiProperty({ format: 'uuid' }) id: string;
}

/** What accepting an account's invitation answers: the account the person now works in. */
export class InvitationAcceptedView {
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() accountName: string;
}

/** What declining an account's invitation answers, inside Portico: whose membership went, so that the gateway drops their roles there. */
export interface InvitationDeclined {
  accountId: string;
  userId: string;
  /** The account went with the decline (its owner, named by open sign-up, declined it): access drops it from the event, and the gateway has nothing to unbind. */
  accountClosed?: boolean;
}

/** An account's invitation waiting for the caller's answer. */
export class InvitationView {
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() accountName: string;
  @ApiProperty({ format: 'date-time' }) invitedAt: string;
}

/** `identity.users.list`. */
export class ListUsersRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => ListUsersQuery)
  query: ListUsersQuery;
}

/** A request about one person of the account. */
export class UserRequest extends AccountRequest {
  @IsUuid()
  userId: string;
}

/** `identity.users.create`: the role is carried for the audit trail; access holds the binding. */
export class CreateUserRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => CreateUserBody)
  body: CreateUserBody;

  /**
   * The gateway's key for this create (NATS only, never from an HTTP body): the same create sent
   * again with it, after an answer was lost, is done once and answers the same id.
   */
  @Omittable()
  @IsUuid()
  requestKey?: string;
}

/** `identity.users.update`: `role`, when present, is carried for the audit trail only. */
export class UpdateUserRequest extends UserRequest {
  @IsDefined()
  @Nested(() => UpdateUserBody)
  body: UpdateUserBody;
}

/** `PATCH /v1/me`: the caller's own name, phone and mail language (they belong to the person, across accounts). */
export class UpdateProfileBody {
  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsPersonName()
  firstName?: string;

  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsPersonName()
  lastName?: string;

  @ApiPropertyOptional({ example: '+447700900123' })
  @Omittable()
  @IsString()
  @Matches(E164_PATTERN, { message: 'phone must be in international format, e.g. +447700900123' })
  phone?: string;

  @ApiPropertyOptional({ example: 'fr', maxLength: 35, description: 'The language of the mails you receive, in every account' })
  @Omittable()
  @IsLocale()
  locale?: string;
}

/** `identity.me.update`. */
export class UpdateProfileRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => UpdateProfileBody)
  body: UpdateProfileBody;
}
