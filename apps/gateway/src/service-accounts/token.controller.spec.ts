import { credentialsOf } from './token.controller.js';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
const grant = { grant_type: 'client_credentials' as const };

describe('the client credentials of a token request (RFC 6749 §2.3.1)', () => {
  it('are read from the body, or from HTTP Basic (each part form-decoded)', () => {
    expect(credentialsOf({ ...grant, client_id: 'id', client_secret: 'secret' }, undefined)).toEqual({ clientId: 'id', clientSecret: 'secret' });
    expect(credentialsOf(grant, basic('id:se%3Acret+x'))).toEqual({ clientId: 'id', clientSecret: 'se:cret x' });
    expect(credentialsOf(grant, `bAsIc  ${Buffer.from('id:secret').toString('base64')}`)).toEqual({ clientId: 'id', clientSecret: 'secret' });
  });

  it('are refused (400 naming the field) when missing, sent both ways, or malformed', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return { code: (error as { code: string }).code, field: (error as { details: { field: string } }).details.field };
      }
      throw new Error('not refused');
    };
    expect(refusal(() => credentialsOf(grant, undefined))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_id' });
    expect(refusal(() => credentialsOf({ ...grant, client_id: 'id' }, undefined))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_secret' });
    expect(refusal(() => credentialsOf({ ...grant, client_id: 'id', client_secret: 's' }, basic('id:s')))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'client_id',
    });
    expect(refusal(() => credentialsOf(grant, basic('no-colon')))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_id' });
    expect(refusal(() => credentialsOf(grant, basic('id:%E0%A4%A')))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_id' });
    // Too long for identity's request: named as the HTTP fields (not identity's clientId), as in the body.
    expect(refusal(() => credentialsOf(grant, basic(`${'a'.repeat(101)}:s`)))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_id' });
    expect(refusal(() => credentialsOf(grant, basic(`id:${'s'.repeat(201)}`)))).toEqual({ code: 'VALIDATION_FAILED', field: 'client_secret' });
    // A Basic header that is not base64: refused as such, not taken for no header at all.
    expect(refusal(() => credentialsOf(grant, 'Basic a-b!'))).toEqual({ code: 'VALIDATION_FAILED', field: 'authorization' });
    expect(refusal(() => credentialsOf({ ...grant, client_id: 'id', client_secret: 's' }, 'Basic'))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'authorization',
    });
  });

  it('ignore a bearer header: the body must carry them', () => {
    expect(credentialsOf({ ...grant, client_id: 'id', client_secret: 's' }, 'Bearer abc')).toEqual({ clientId: 'id', clientSecret: 's' });
  });
});
