import { loadConfig } from '#libs/platform/index.js';
import { identityEnv } from './identity.config.js';

describe('the identity configuration', () => {
  it('defaults to 12-character passwords, 7-day activation, 1-hour reset, 1-day e-mail change and 8-hour subuser sessions', () => {
    expect(loadConfig(identityEnv, {})).toMatchObject({
      PASSWORD_MIN_LENGTH: 12,
      ACTIVATION_TOKEN_TTL_HOURS: 168,
      RESET_TOKEN_TTL_MINUTES: 60,
      EMAIL_CHANGE_TOKEN_TTL_HOURS: 24,
      EMAIL_UNDO_TOKEN_TTL_HOURS: 168,
      SUBUSER_SESSION_TTL_HOURS: 8,
      ACCESS_TOKEN_TTL_SECONDS: 900,
    });
  });

  it.each([
    ['7', false],
    ['8', true],
    ['64', true],
    ['129', false],
  ])('PASSWORD_MIN_LENGTH=%s is %s (never below 8, P1)', (value, accepted) => {
    const load = () => loadConfig(identityEnv, { PASSWORD_MIN_LENGTH: value });
    if (accepted) expect(load().PASSWORD_MIN_LENGTH).toBe(Number(value));
    else expect(load).toThrow('PASSWORD_MIN_LENGTH');
  });

  it.each([
    ['0', false],
    ['1', true],
    ['168', true],
    ['169', false],
  ])('EMAIL_CHANGE_TOKEN_TTL_HOURS=%s is %s (an hour to a week)', (value, accepted) => {
    const load = () => loadConfig(identityEnv, { EMAIL_CHANGE_TOKEN_TTL_HOURS: value });
    if (accepted) expect(load().EMAIL_CHANGE_TOKEN_TTL_HOURS).toBe(Number(value));
    else expect(load).toThrow('EMAIL_CHANGE_TOKEN_TTL_HOURS');
  });
});
