import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateRoleBody, UpdateRoleBody } from './access.contract.js';
import { CreateAccountBody } from './accounts.contract.js';
import { CreateSubuserBody, UpdateSubuserBody } from './subusers.contract.js';
import { UpdateProfileBody, UpdateUserBody } from './users.contract.js';

type BodyClass = new () => object;

/** The fields a body class names in its validation errors for `body`. */
function refusedFields(type: BodyClass, body: object): string[] {
  return validateSync(plainToInstance(type, body), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }).map((error) => error.property);
}

const subuser = { login: 'desk', roles: ['Developer'], email: 'desk@example.com' };
const account = { name: 'Acme', slug: 'acme', owner: { firstName: 'Ada', lastName: 'L', email: 'ada@example.com', phone: '+447700900123' } };

describe('Omittable fields', () => {
  it.each<[string, BodyClass, object, string[]]>([
    ['UpdateUserBody', UpdateUserBody, {}, ['firstName', 'lastName', 'phone', 'role', 'active']],
    ['UpdateProfileBody', UpdateProfileBody, {}, ['firstName', 'lastName', 'phone']],
    ['UpdateSubuserBody', UpdateSubuserBody, {}, ['roles', 'description', 'active', 'password']],
    ['CreateSubuserBody', CreateSubuserBody, subuser, ['email', 'password', 'applicationIds', 'description']],
    ['CreateRoleBody', CreateRoleBody, { name: 'Auditor' }, ['description', 'grants', 'from']],
    ['UpdateRoleBody', UpdateRoleBody, {}, ['grants', 'name']],
    ['CreateAccountBody', CreateAccountBody, account, ['locale']],
  ])('of %s may be left out, but null is refused, naming the field', (_name, type, valid, fields) => {
    expect(refusedFields(type, valid)).toEqual([]);
    for (const field of fields) expect(refusedFields(type, { ...valid, [field]: null })).toEqual([field]);
  });

  it.each<[string, string, BodyClass]>([
    ['UpdateRoleBody', 'description', UpdateRoleBody],
    ['UpdateSubuserBody', 'applicationIds', UpdateSubuserBody],
    ['UpdateSubuserBody', 'email', UpdateSubuserBody],
  ])('of %s keep null where it means something (%s)', (_name, field, type) => {
    expect(refusedFields(type, { [field]: null })).toEqual([]);
  });
});
