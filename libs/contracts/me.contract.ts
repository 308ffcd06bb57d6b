import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { IsDefined } from 'class-validator';
import { Nested } from './nested.js';
import { Actor } from './actor.js';

/** One account the caller works in. */
export class MembershipView {
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() accountName: string;
  @ApiProperty() accountSlug: string;
  @ApiProperty({ type: [String], description: 'Role names held in this account' }) roles: string[];
  @ApiProperty() owner: boolean;
  @ApiProperty({ description: 'The account refuses sessions opened without a second step (403 SECOND_STEP_REQUIRED)' })
  requireSecondStep: boolean;
}

/**
 * `GET /v1/me`. A subuser has no name or phone: its `firstName` is its login (`lastName` and `phone`
 * empty), `email` its address or empty, and `login` says it.
 */
export class MeView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['user', 'subuser'] }) type: 'user' | 'subuser';
  @ApiProperty({ description: "A subuser's: its login" }) firstName: string;
  @ApiProperty({ description: "A subuser's: empty" }) lastName: string;
  @ApiProperty({ description: "A subuser's: its address, or empty without one" }) email: string;
  @ApiProperty({ description: "A subuser's: empty" }) phone: string;
  @ApiPropertyOptional({ description: 'A subuser only: its login (in its account)' }) login?: string;
  @ApiProperty({ example: 'en', description: 'The language of the mails the caller receives' }) locale: string;
  @ApiProperty({ type: [MembershipView] }) memberships: MembershipView[];
}

/** A request made by an actor about themselves. */
export class ActorRequest {
  @IsDefined()
  @Nested(() => Actor)
  actor: Actor;
}
