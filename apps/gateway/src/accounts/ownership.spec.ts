import { Subjects, type Actor } from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { transferOwnership } from './ownership.js';

const ROLE_ID = '3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const actor: Actor = { type: 'user', id: '6f1c0e52-3a4b-4c1d-9e2f-0a1b2c3d4e5f', sessionId: '00000000-0000-4000-8000-000000000000' };

/** An RpcSender that answers access's role list and records what identity is asked. */
function rpcRecording(): { rpc: RpcSender; handedOver: unknown[] } {
  const handedOver: unknown[] = [];
  const send = (subject: string, request: unknown) => {
    if (subject === Subjects.AccessRolesList) return Promise.resolve([{ id: ROLE_ID, name: 'Call auditor' }]);
    handedOver.push(request);
    return Promise.resolve({});
  };
  return { rpc: { send } as unknown as RpcSender, handedOver };
}

describe('transferOwnership names the role the previous owner keeps', () => {
  it.each([
    ['by its id', ROLE_ID],
    ['by its id in capitals (the same role, as every id)', ROLE_ID.toUpperCase()],
    ['by its name, whatever its case', 'CALL AUDITOR'],
  ])('%s', async (_how, previousOwnerRole) => {
    const { rpc, handedOver } = rpcRecording();
    await transferOwnership(rpc, actor, 'a1', '10.0.0.1', { userId: 'u2', previousOwnerRole });
    expect(handedOver).toEqual([expect.objectContaining({ body: { userId: 'u2', previousOwnerRole: ROLE_ID }, previousOwnerRoleName: 'Call auditor' })]);
  });

  it('refuses a role the account does not have (400 naming the field), asking identity nothing', async () => {
    const { rpc, handedOver } = rpcRecording();
    await expect(transferOwnership(rpc, actor, 'a1', '10.0.0.1', { userId: 'u2', previousOwnerRole: 'No such role' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'previousOwnerRole' },
    });
    expect(handedOver).toEqual([]);
  });
});
