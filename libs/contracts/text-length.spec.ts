import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ApplicationBody, BindingInput, CreateRoleBody, ListApplicationsQuery, UpdateRoleBody } from './access.contract.js';
import { CreateAccountBody, TransferOwnershipBody, TransferOwnershipRequest, UpdateAccountBody } from './accounts.contract.js';
import { CreateSubuserBody, UpdateSubuserBody } from './subusers.contract.js';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_STORED_NAME_LENGTH } from './text-length.js';
import { CreateUserBody, ListUsersQuery, UpdateUserBody } from './users.contract.js';

type Body = new () => object;

/** One text field of a contract: the body holding it, valid but for it, and its bounds in code points. */
interface TextField {
  what: string;
  type: Body;
  body: Record<string, unknown>;
  field: string;
  min: number;
  max: number;
  /** The field holds a list of texts, each bounded. */
  each?: boolean;
}

const person = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+447700900123' };
const owner = { ...person };

const FIELDS: TextField[] = [
  { what: 'an account created', type: CreateAccountBody, body: { slug: 'acme', owner }, field: 'name', min: 1, max: MAX_NAME_LENGTH },
  { what: 'an account renamed', type: UpdateAccountBody, body: {}, field: 'name', min: 1, max: MAX_NAME_LENGTH },
  { what: 'an application', type: ApplicationBody, body: {}, field: 'name', min: 1, max: MAX_NAME_LENGTH },
  { what: 'a role created', type: CreateRoleBody, body: { grants: [] }, field: 'name', min: 1, max: MAX_NAME_LENGTH },
  { what: 'a role renamed', type: UpdateRoleBody, body: {}, field: 'name', min: 1, max: MAX_NAME_LENGTH },
  {
    what: 'a role created (description)',
    type: CreateRoleBody,
    body: { name: 'Auditor', grants: [] },
    field: 'description',
    min: 0,
    max: MAX_DESCRIPTION_LENGTH,
  },
  { what: 'a role edited (description)', type: UpdateRoleBody, body: {}, field: 'description', min: 0, max: MAX_DESCRIPTION_LENGTH },
  { what: 'a role copied', type: CreateRoleBody, body: { name: 'Auditor' }, field: 'from', min: 1, max: MAX_NAME_LENGTH },
  { what: 'a binding', type: BindingInput, body: {}, field: 'role', min: 1, max: MAX_NAME_LENGTH },
  { what: 'a person added', type: CreateUserBody, body: person, field: 'role', min: 1, max: MAX_NAME_LENGTH },
  { what: 'a person edited', type: UpdateUserBody, body: {}, field: 'role', min: 1, max: MAX_NAME_LENGTH },
  {
    what: 'an account handed over',
    type: TransferOwnershipBody,
    body: { userId: '0b7f2e52-5e0c-4a3a-9a7e-3f1c2d4e5f60' },
    field: 'previousOwnerRole',
    min: 1,
    max: MAX_NAME_LENGTH,
  },
  {
    what: 'a subuser created (description)',
    type: CreateSubuserBody,
    body: { login: 'desk', roles: ['Developer'] },
    field: 'description',
    min: 0,
    max: MAX_DESCRIPTION_LENGTH,
  },
  { what: 'a subuser edited (description)', type: UpdateSubuserBody, body: {}, field: 'description', min: 0, max: MAX_DESCRIPTION_LENGTH },
  { what: 'a subuser created (roles)', type: CreateSubuserBody, body: { login: 'desk' }, field: 'roles', min: 1, max: MAX_NAME_LENGTH, each: true },
  { what: 'a subuser edited (roles)', type: UpdateSubuserBody, body: {}, field: 'roles', min: 1, max: MAX_NAME_LENGTH, each: true },
  { what: 'the applications searched', type: ListApplicationsQuery, body: {}, field: 'search', min: 1, max: 100 },
  { what: 'the user table searched', type: ListUsersQuery, body: {}, field: 'search', min: 0, max: 100 },
];

/** The messages of the problems `text` in `field` causes, every other field valid. */
async function problems({ type, body, field, each }: TextField, text: string): Promise<string[]> {
  const errors = await validate(plainToInstance(type, { ...body, [field]: each ? [text] : text }));
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('text fields are bounded in code points (as OpenAPI counts), whatever class-validator would count', () => {
  describe.each(FIELDS.map((field) => [field.what, field.field, field] as const))('%s: %s', (_what, _field, spec) => {
    const bounds = spec.min > 0 ? `${spec.min} to ${spec.max}` : `at most ${spec.max}`;
    const refusal = `${spec.each ? 'each value in ' : ''}${spec.field} must be ${bounds} characters`;

    it.each([
      ['its longest in emoji (twice as many UTF-16 code units)', '😀'.repeat(spec.max)],
      ['its longest in letters', 'x'.repeat(spec.max)],
    ])('accepts %s', async (_label, text) => {
      expect(await problems(spec, text)).toEqual([]);
    });

    it.each([
      ['one emoji more than its longest', '😀'.repeat(spec.max + 1)],
      // class-validator counts each emoji and the selector after it as one character: spec.max, for three times as many code units.
      ['its longest in emoji each with a variation selector', '😀\uFE0F'.repeat(spec.max)],
    ])('refuses %s, naming the field', async (_label, text) => {
      expect(await problems(spec, text)).toEqual([refusal]);
    });
  });
});

describe('a stored name carried back by the gateway (the role a previous owner keeps, named in the hand-over mails)', () => {
  const request = (previousOwnerRoleName: string) =>
    plainToInstance(TransferOwnershipRequest, {
      actor: { type: 'user', id: '0b7f2e52-5e0c-4a3a-9a7e-3f1c2d4e5f60', sessionId: '4fb06c96-9c4a-4e7e-9ebc-7d5061829304' },
      accountId: '1c8e3f63-6f1d-4b4b-8b8f-4a2d3e5f6071',
      client: { ip: '192.0.2.1' },
      body: { userId: '2d9f4a74-7a2e-4c5c-9c9a-5b3e4f607182', previousOwnerRole: '3eaf5b85-8b3f-4d6d-8dab-6c4f50718293' },
      previousOwnerRoleName,
    });

  it('accepts a name stored before names were counted in code points: 100 emoji each with a variation selector', async () => {
    expect(await validate(request('😀\uFE0F'.repeat(MAX_NAME_LENGTH)))).toEqual([]);
  });

  it('refuses one longer than any name stored, naming it', async () => {
    const errors = await validate(request('😀'.repeat(MAX_STORED_NAME_LENGTH + 1)));
    expect(errors.flatMap((error) => Object.values(error.constraints ?? {}))).toEqual([
      `previousOwnerRoleName must be 1 to ${MAX_STORED_NAME_LENGTH} characters`,
    ]);
  });
});
