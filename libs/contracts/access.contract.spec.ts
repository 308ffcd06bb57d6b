import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateRoleBody } from './access.contract.js';

const messagesOf = async (body: object) => (await validate(plainToInstance(CreateRoleBody, body))).flatMap((error) => Object.values(error.constraints ?? {}));

describe('a new custom role', () => {
  it('is copied from a role or given its grants, not both (one of them would be ignored)', async () => {
    const grants = [{ section: 'logs', actions: ['read'] }];
    expect(await messagesOf({ name: 'Both', from: 'Support', grants })).toEqual(['from and grants cannot both be given: copy a role, or list the grants']);
    expect(await messagesOf({ name: 'Copied', from: 'Support' })).toEqual([]);
    expect(await messagesOf({ name: 'Listed', grants })).toEqual([]);
  });
});
