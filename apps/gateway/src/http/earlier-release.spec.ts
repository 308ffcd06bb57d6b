import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ReplaceBindingsRequest, parseCheckRequest } from '#libs/contracts/index.js';
import { DomainError } from '#libs/errors/index.js';
import { toErrorPayload } from '#libs/platform/index.js';
import { refusesUnknownField } from './earlier-release.js';

const quiet = { error: () => undefined, warn: () => undefined } as never;
const check = { principal: { type: 'user', id: '00000000-0000-4000-8000-000000000001' }, accountId: '00000000-0000-4000-8000-000000000002' };

/** The error a gateway gets once `thrown` has crossed NATS, as a service answers it. */
function asReceived(thrown: unknown): DomainError {
  return DomainError.fromPayload(JSON.parse(JSON.stringify(toErrorPayload(thrown, quiet))));
}

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe("a service's refusal of a field it does not know (a release before)", () => {
  it("is recognised from a hot subject's parser, for that field only", () => {
    const refusal = asReceived(thrownBy(() => parseCheckRequest({ ...check, section: 'scenarios', action: 'read', laterField: 1 })));
    expect(refusesUnknownField(refusal, 'laterField')).toBe(true);
    expect(refusesUnknownField(refusal, 'section')).toBe(false);
  });

  it("is recognised from class-validator's answer, for that field only", async () => {
    const errors = await validate(plainToInstance(ReplaceBindingsRequest, { laterField: 1 }), { whitelist: true, forbidNonWhitelisted: true });
    const refusal = asReceived(errors);
    expect(refusesUnknownField(refusal, 'laterField')).toBe(true);
    expect(refusesUnknownField(refusal, 'principal')).toBe(false);
  });

  it('is not any other error naming the field', () => {
    expect(
      refusesUnknownField(
        asReceived(thrownBy(() => parseCheckRequest({ ...check, section: 'scenarios', action: 'read', atLeastVersion: -1 }))),
        'atLeastVersion',
      ),
    ).toBe(false);
    expect(refusesUnknownField(new Error('atLeastVersion should not exist'), 'atLeastVersion')).toBe(false);
  });
});
