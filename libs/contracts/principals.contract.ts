import { ApiProperty } from './api-docs.js';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';
import { AccountRequest, MAX_PAGE_SIZE } from './account-request.js';
import { Principal } from './actor.js';
import { Nested } from './nested.js';

/**
 * `identity.principals.describe`: the names of principals of the account, as its lists show them
 * (a page of a role's holders, say). The gateway asks only for the kinds the caller may read.
 */
export class DescribePrincipalsRequest extends AccountRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PAGE_SIZE)
  @Nested(() => Principal, { each: true })
  principals: Principal[];
}

/** A principal of an account as its lists name it. */
export class PrincipalDescription {
  @ApiProperty({ type: Principal }) principal: Principal;

  @ApiProperty({
    description:
      "A person's first and last name as the account sees them (what it typed, until they accept an invitation); a subuser's login; a service account's name",
  })
  name: string;

  @ApiProperty({ nullable: true, type: String, description: "A person's e-mail as the account sees it; a subuser's, if it has one" })
  email: string | null;
}

/** The answer of `identity.principals.describe`: one description each of the principals found in the account, in no order. */
export interface PrincipalDescriptions {
  items: PrincipalDescription[];
}
