import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Events,
  type EmailChangeRequestedData,
  type EventEnvelope,
  type EventType,
  type MailTemplate,
  type RecoveryCodeUsedData,
  type SubuserEmailChangedData,
} from '#libs/contracts/index.js';
import { webLink } from '#libs/contracts/index.js';
import { FEW_RECOVERY_CODES_LEFT, formatInstant, IncompleteEventError, InvalidEventError, MailRenderer, templatesFor } from './mail-renderer.js';
import { TemplateCatalog } from './template-catalog.js';

const settings = { productName: 'Portico', publicWebUrl: 'https://panel.example.com/app/' };
const renderer = new MailRenderer(settings, TemplateCatalog.builtIn());
const ACCOUNT = '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10';

function event<T extends EventType>(type: T, data: EventEnvelope<T>['data']): EventEnvelope {
  return { id: '0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f', type, occurredAt: '2026-11-22T10:00:00.000Z', accountId: ACCOUNT, data } as EventEnvelope;
}

const base = { expiresAt: '2026-11-29T10:00:00.000Z', locale: 'en' };

/** A hand-over of Acme from Ada to Grace, each reading in the locale given. */
function handOver(locales: { newOwner?: string; previousOwner?: string } = {}): EventEnvelope {
  return event(Events.OwnershipTransferred, {
    accountId: ACCOUNT,
    fromUserId: 'u1',
    toUserId: 'u2',
    previousOwnerRole: 'builtin:Admin',
    ownerVersion: 1,
    accountName: 'Acme <Voice>',
    previousOwnerRoleName: 'Admin',
    newOwner: { email: 'grace@example.com', firstName: 'Grace', locale: locales.newOwner ?? 'en' },
    previousOwner: { email: 'ada@example.com', firstName: 'Ada', locale: locales.previousOwner ?? 'en' },
  });
}

const samples: Record<MailTemplate, (locale: string) => EventEnvelope> = {
  activation: (locale) =>
    event(Events.UserInvited, {
      ...base,
      locale,
      accountId: ACCOUNT,
      accountName: 'Acme <Voice>',
      userId: 'u1',
      email: 'ada@example.com',
      firstName: 'Ada',
      token: 'tok/en+1',
    }),
  'added-to-account': (locale) =>
    event(Events.UserAddedToAccount, { locale, accountId: ACCOUNT, accountName: 'Acme <Voice>', userId: 'u1', email: 'ada@example.com', firstName: 'Ada' }),
  'subuser-activation': (locale) =>
    event(Events.SubuserInvited, {
      ...base,
      locale,
      accountId: ACCOUNT,
      accountName: 'Acme <Voice>',
      accountSlug: 'acme-voice',
      subuserId: 's1',
      login: 'operator1',
      email: 'ops@example.com',
      token: 'subtoken',
    }),
  'password-reset': (locale) =>
    event(Events.PasswordResetRequested, {
      ...base,
      locale,
      accountId: null,
      accountSlug: null,
      principalType: 'user',
      principalId: 'u1',
      email: 'ada@example.com',
      name: 'Ada',
      token: 'resettoken',
      requestedBy: 'self',
    }),
  'subuser-password-reset': (locale) =>
    event(Events.PasswordResetRequested, {
      ...base,
      locale,
      accountId: ACCOUNT,
      accountSlug: 'acme-voice',
      principalType: 'subuser',
      principalId: 's1',
      email: 'ops@example.com',
      name: 'operator1',
      token: 'subreset',
      requestedBy: 'admin',
    }),
  'password-changed': (locale) =>
    event(Events.PasswordChanged, {
      locale,
      accountId: null,
      principalType: 'user',
      principalId: 'u1',
      email: 'ada@example.com',
      name: 'Ada',
      changedAt: '2026-11-22T09:59:00.000Z',
    }),
  'second-step-changed': (locale) =>
    event(Events.SecondStepChanged, {
      locale,
      accountId: null,
      principalType: 'user',
      principalId: 'u1',
      email: 'ada@example.com',
      name: 'Ada',
      change: 'enabled',
      changedAt: '2026-11-22T09:59:00.000Z',
    }),
  'second-step-blocked': (locale) =>
    event(Events.SecondStepBlocked, {
      locale,
      accountId: null,
      principalType: 'user',
      principalId: 'u1',
      email: 'ada@example.com',
      name: 'Ada',
      wrongCodes: 20,
      blockedAt: '2026-11-22T09:59:00.000Z',
    }),
  'recovery-code-used': (locale) => recoveryCodeUsed({ locale }),
  'ownership-received': (locale) => handOver({ newOwner: locale }),
  'ownership-handed-over': (locale) => handOver({ previousOwner: locale }),
  'email-change-confirm': (locale) => emailChangeRequested({ locale }),
  'email-change-in-use': (locale) => emailChangeRequested({ locale, inUse: true, token: undefined, expiresAt: undefined }),
  'email-changed': (locale) =>
    event(Events.EmailChanged, {
      locale,
      userId: 'u1',
      previousEmail: 'ada@example.com',
      email: 'ada.lovelace@example.org',
      name: 'Ada',
      changedAt: '2026-11-22T09:59:00.000Z',
      undoToken: 'undotoken',
      undoExpiresAt: '2026-11-29T09:59:00.000Z',
    }),
  'subuser-email-changed': (locale) => subuserEmailChanged({ locale }),
};

/** An admin of Acme moved the subuser operator1 from ops@example.com to desk@example.com (or, with `email: null`, took its e-mail away). */
function subuserEmailChanged(change: Partial<SubuserEmailChangedData> = {}): EventEnvelope {
  return event(Events.SubuserEmailChanged, {
    locale: 'en',
    accountId: ACCOUNT,
    accountName: 'Acme <Voice>',
    subuserId: 's1',
    login: 'operator1',
    previousEmail: 'ops@example.com',
    email: 'desk@example.com',
    changedAt: '2026-11-22T09:59:00.000Z',
    ...change,
  });
}

/** Ada signed in with a recovery code from Firefox on Linux at 203.0.113.7, two codes left (with `change`). */
function recoveryCodeUsed(change: Partial<RecoveryCodeUsedData> = {}): EventEnvelope {
  return event(Events.RecoveryCodeUsed, {
    locale: 'en',
    accountId: null,
    principalType: 'user',
    principalId: 'u1',
    email: 'ada@example.com',
    name: 'Ada',
    usedAt: '2026-11-22T09:59:00.000Z',
    ip: '203.0.113.7',
    device: 'Firefox 133 on Linux',
    codesLeft: 2,
    ...change,
  });
}

/** Ada asks to move her login from ada@example.com to ada.lovelace@example.org. */
function emailChangeRequested(change: Partial<EmailChangeRequestedData> = {}): EventEnvelope {
  return event(Events.EmailChangeRequested, {
    ...base,
    userId: 'u1',
    email: 'ada@example.com',
    newEmail: 'ada.lovelace@example.org',
    name: 'Ada',
    inUse: false,
    token: 'movetoken',
    ...change,
  });
}

describe('each mail in each language', () => {
  const cases = Object.keys(samples).flatMap((template) => ['en', 'fr'].map((locale) => [template as MailTemplate, locale] as const));

  it.each(cases)('%s in %s matches its snapshot', (template, locale) => {
    const mail = renderer.render(samples[template](locale), template)!;
    expect(mail.template).toBe(template);
    expect(mail.locale).toBe(locale);
    expect(mail).toMatchSnapshot();
  });

  it.each(cases)('%s in %s escapes what it is given in HTML, and names the product', (template, locale) => {
    const mail = renderer.render(samples[template](locale), template)!;
    expect(mail.html).not.toContain('<Voice>');
    expect(mail.subject).toContain('Portico');
    expect(mail.html).toContain(`<html lang="${locale}">`);
    expect(mail.text).not.toMatch(/\{\{|\}\}/);
  });
});

describe("an account's invitation to someone who already has a login", () => {
  const invitation = (locale: string) => ({ ...samples.activation(locale), data: { ...samples.activation(locale).data, hasLogin: true } }) as EventEnvelope;

  it.each([
    ['en', 'Portico: join Acme <Voice>', 'Accept the invitation', 'Set your password'],
    ['fr', 'Portico : rejoignez Acme <Voice>', "Acceptez l'invitation", 'Choisissez votre mot de passe'],
  ])(
    'in %s asks them to accept it (their password stays), linking to /accept-invitation, under the template and event of any invitation',
    (locale, subject, asked, notAsked) => {
      const mail = renderer.render(invitation(locale))!;
      expect(mail.template).toBe('activation');
      expect(mail.subject).toBe(subject);
      expect(mail.text).toContain(asked);
      expect(mail.text).not.toContain(notAsked);
      expect(mail.html).not.toContain(notAsked);
      expect(mail.text).toContain('https://panel.example.com/app/accept-invitation?token=tok%2Fen%2B1');
      expect(mail.html).toContain('href="https://panel.example.com/app/accept-invitation?token=tok%2Fen%2B1"');
      expect(mail.text).not.toContain('/activate?');
    },
  );
});

describe('links', () => {
  it.each([
    ['activation', 'https://panel.example.com/app/activate?token=tok%2Fen%2B1'],
    ['subuser-activation', 'https://panel.example.com/app/login/acme-voice/activate?token=subtoken'],
    ['password-reset', 'https://panel.example.com/app/reset-password?token=resettoken'],
    ['subuser-password-reset', 'https://panel.example.com/app/login/acme-voice/reset-password?token=subreset'],
    ['added-to-account', 'https://panel.example.com/app/login'],
    ['password-changed', 'https://panel.example.com/app/reset-password'],
    ['second-step-changed', 'https://panel.example.com/app/reset-password'],
    ['second-step-blocked', 'https://panel.example.com/app/reset-password'],
    ['recovery-code-used', 'https://panel.example.com/app/reset-password'],
    ['ownership-received', 'https://panel.example.com/app/login'],
    ['ownership-handed-over', 'https://panel.example.com/app/reset-password'],
    ['email-change-confirm', 'https://panel.example.com/app/confirm-email?token=movetoken'],
    ['email-change-in-use', 'https://panel.example.com/app/login'],
    ['email-changed', 'https://panel.example.com/app/undo-email-change?token=undotoken'],
  ] as const)('%s links to %s', (template, link) => {
    const mail = renderer.render(samples[template]('en'), template)!;
    expect(mail.text).toContain(link);
    expect(mail.html).toContain(`href="${link.replace(/&/g, '&amp;')}"`);
  });

  it('keep the format the foundation tests read for a base URL without a path', () => {
    expect(webLink('http://panel.test', '/activate', 'abc')).toBe('http://panel.test/activate?token=abc');
    expect(webLink('http://panel.test/', '/activate', 'abc')).toBe('http://panel.test/activate?token=abc');
  });
});

describe('content', () => {
  it('names the account and the expiry in the reader’s language', () => {
    expect(renderer.render(samples.activation('en'))!.text).toContain('expires on 29 November 2026 at 10:00 UTC');
    expect(renderer.render(samples.activation('fr'))!.text).toContain('expire le 29 novembre 2026 à 10:00 UTC');
    expect(renderer.render(samples.activation('en'))!.subject).toBe('Portico: activate your access to Acme <Voice>');
  });

  it('says who asked for a reset', () => {
    const self = samples['password-reset']('en');
    expect(renderer.render(self)!.text).toContain('Someone (hopefully you)');
    const admin = { ...self, data: { ...self.data, requestedBy: 'admin' } } as EventEnvelope;
    expect(renderer.render(admin)!.text).toContain('An administrator of your account');
  });

  it('tells a subuser whose password changed to ask an administrator (its reset page needs a slug the event lacks)', () => {
    const changed = samples['password-changed']('en');
    const subuser = { ...changed, data: { ...changed.data, principalType: 'subuser', name: 'operator1' } } as EventEnvelope;
    const mail = renderer.render(subuser)!;
    expect(mail.text).toContain('ask an administrator');
    expect(mail.text).not.toContain('http');
  });

  it.each([
    ['enabled', 'en', 'Portico: two-step sign-in was turned on', 'every other session was ended'],
    ['disabled', 'en', 'Portico: two-step sign-in was turned off', 'asks for the password alone'],
    ['recovery-codes-renewed', 'en', 'Portico: your recovery codes were replaced', 'the old ones no longer work'],
    ['reset-by-admin', 'en', 'Portico: an administrator turned off your two-step sign-in', 'until you set it up again'],
    ['enabled', 'fr', 'Portico : la connexion en deux étapes a été activée', 'toutes les autres sessions ont été fermées'],
    ['reset-by-admin', 'fr', 'Portico : un administrateur a désactivé votre connexion en deux étapes', "jusqu'à ce que vous la réactiviez"],
    ['reset-by-operator', 'en', 'Portico: support turned off your two-step sign-in', 'The support of Portico turned off two-step sign-in'],
    [
      'reset-by-operator',
      'fr',
      'Portico : le support a désactivé votre connexion en deux étapes',
      'Le support de Portico a désactivé la connexion en deux étapes',
    ],
  ])('tells of a second step %s (%s) in the subject and the text', (change, locale, subject, sentence) => {
    const sample = samples['second-step-changed'](locale);
    const mail = renderer.render({ ...sample, data: { ...sample.data, change } } as EventEnvelope)!;
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(sentence);
    expect(mail.html).toContain(sentence);
  });

  it.each([
    ['en', 'Portico: two-step sign-in blocked after too many wrong codes', '20 wrong codes within 30 days had been typed', 'A new password lifts the block'],
    [
      'fr',
      'Portico : connexion en deux étapes bloquée après trop de codes erronés',
      '20 codes erronés avaient été saisis en 30 jours',
      'Un nouveau mot de passe lève le blocage',
    ],
  ])('tells of a second step blocked by wrong codes (%s): how many, when, and that a new password lifts the block', (locale, subject, count, way) => {
    const mail = renderer.render(samples['second-step-blocked'](locale))!;
    expect(mail).toMatchObject({ template: 'second-step-blocked', to: 'ada@example.com', locale, subject });
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain(count);
      expect(part).toContain(way);
      expect(part).toContain(locale === 'en' ? '22 November 2026 at 09:59 UTC' : '22 novembre 2026 à 09:59 UTC');
    }
  });

  it('tells a subuser whose second step is blocked to ask an administrator (no link), and refuses a notice without its count of wrong codes', () => {
    const sample = samples['second-step-blocked']('en');
    const mail = renderer.render({ ...sample, data: { ...sample.data, principalType: 'subuser', name: 'operator1' } } as EventEnvelope)!;
    expect(mail.text).toContain('ask an administrator of your account to reset your password');
    expect(mail.text).not.toContain('http');
    expect(() => renderer.render({ ...sample, data: { ...sample.data, wrongCodes: 'many' } } as unknown as EventEnvelope)).toThrow(InvalidEventError);
  });

  it.each([
    [
      'en',
      'Portico: a recovery code was used to sign in, renew your codes',
      'On 22 November 2026 at 09:59 UTC, someone signed in to your Portico profile with its password and a recovery code instead of a code of the authenticator app, from the address 203.0.113.7 (Firefox 133 on Linux).',
      'Recovery codes left: 2.',
      'Renew your recovery codes now',
      'If it was not you, someone knows your password and has one of your recovery codes:',
    ],
    [
      'fr',
      'Portico : un code de secours a servi à vous connecter, renouvelez vos codes',
      "Le 22 novembre 2026 à 09:59 UTC, quelqu'un s'est connecté à votre profil Portico avec son mot de passe et un code de secours au lieu d'un code de l'application d'authentification, depuis l'adresse 203.0.113.7 (Firefox 133 on Linux).",
      'Codes de secours restants : 2.',
      'Renouvelez dès maintenant vos codes de secours',
      "Sinon, quelqu'un connaît votre mot de passe et possède l'un de vos codes de secours :",
    ],
  ])(
    'tells of a sign-in with a recovery code (%s): when, from where, the codes left, to renew them when few are, and what to do if it was not them',
    (locale, subject, ...sentences) => {
      const mail = renderer.render(recoveryCodeUsed({ locale }))!;
      expect(mail).toMatchObject({ template: 'recovery-code-used', to: 'ada@example.com', locale, subject });
      for (const sentence of sentences) {
        expect(mail.text).toContain(sentence);
        expect(mail.html).toContain(sentence);
      }
    },
  );

  it.each([
    [3, false],
    [FEW_RECOVERY_CODES_LEFT, true],
    [0, true],
  ])('asks to renew the recovery codes with %i left: %s', (codesLeft, asked) => {
    const mail = renderer.render(recoveryCodeUsed({ codesLeft }))!;
    expect(mail.text).toContain(`Recovery codes left: ${codesLeft}.`);
    expect(mail.subject.endsWith(', renew your codes')).toBe(asked);
    for (const part of [mail.text, mail.html]) expect(part.includes('Renew your recovery codes now')).toBe(asked);
  });

  it.each<[string, Partial<RecoveryCodeUsedData>, string]>([
    ['a person', {}, 'ask the operator of Portico to turn it off'],
    ['a subuser', { principalType: 'subuser' }, 'ask an administrator of your account to turn it off'],
  ])('tells %s with no recovery code left who can turn the second step off after a lost phone (it takes a code)', (_who, change, who) => {
    const none = renderer.render(recoveryCodeUsed({ ...change, codesLeft: 0 }))!;
    for (const part of [none.text, none.html]) {
      expect(part).toContain(who);
      expect(part).not.toContain('turn it off with your password and a recovery code');
    }
    const one = renderer.render(recoveryCodeUsed({ ...change, codesLeft: 1 }))!;
    expect(one.text).toContain('turn it off with your password and a recovery code');
    expect(one.text).not.toContain(who);
  });

  it('tells a subuser that used a recovery code to ask an administrator (no link), names no device it does not know, and refuses a notice without its count or its address', () => {
    const mail = renderer.render(recoveryCodeUsed({ principalType: 'subuser', name: 'operator1', device: null }))!;
    expect(mail.text).toContain('your Portico login with its password and a recovery code');
    expect(mail.text).toContain('from the address 203.0.113.7. That code no longer works.');
    expect(mail.text).toContain('tell an administrator of your account at once');
    expect(mail.text + mail.html).not.toContain('http');
    expect(() => renderer.render(recoveryCodeUsed({ codesLeft: -1 }))).toThrow(InvalidEventError);
    expect(() => renderer.render(recoveryCodeUsed({ codesLeft: '2' as unknown as number }))).toThrow(InvalidEventError);
    expect(() => renderer.render(recoveryCodeUsed({ ip: '' }))).toThrow(InvalidEventError);
  });

  it('refuses a second-step notice of a change it does not know (recorded failed, never a blank mail)', () => {
    const sample = samples['second-step-changed']('en');
    expect(() => renderer.render({ ...sample, data: { ...sample.data, change: 'exploded' } } as unknown as EventEnvelope)).toThrow(InvalidEventError);
  });

  it('falls back to English for a language it does not have, and reads regional tags', () => {
    expect(renderer.render(samples.activation('de'))!.locale).toBe('en');
    expect(renderer.render(samples.activation('fr-CA'))!.locale).toBe('fr');
    expect(renderer.render(samples.activation('FR_fr'))!.locale).toBe('fr');
  });

  it('keeps every name on one line in every part: a line break or control character in it becomes a space, a bidirectional control goes', () => {
    const invited = samples.activation('en');
    const invitedBy = (firstName: string, accountName: string) =>
      renderer.render({ ...invited, data: { ...invited.data, firstName, accountName } } as EventEnvelope)!;
    const mail = invitedBy('Ada\r\nBcc: evil@example.com', 'Acme\u2028Corp\u0000\u001b[31m');
    expect(mail.text).toContain('Hello Ada Bcc: evil@example.com,\n');
    expect(mail.text).toContain('You have been given access to Acme Corp [31m on Portico.');
    expect(mail.text.split('\n').some((line) => line.startsWith('Bcc:'))).toBe(false);
    expect(mail.html).toContain('<p>Hello Ada Bcc: evil@example.com,</p>');
    expect(mail.subject).toBe('Portico: activate your access to Acme Corp [31m');
    expect(`${mail.subject}${mail.text}${mail.html}`).not.toMatch(/[\u0000\u001b\u2028\r]/);

    const subuser = samples['subuser-activation']('en');
    const login = renderer.render({ ...subuser, data: { ...subuser.data, login: 'operator1\n\nPS: call me' } } as EventEnvelope)!;
    expect(login.text).toContain('operator1 PS: call me');

    // Without the bidirectional controls that would make a name read as something else.
    const disguised = invitedBy('Ada\u202Emoc.live\u202C', '\u2067Acme\u2069');
    expect(disguised.text).toContain('Hello Adamoc.live,\n');
    expect(disguised.subject).toBe('Portico: activate your access to Acme');
    expect(`${disguised.subject}${disguised.text}${disguised.html}`).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('keeps the subject on one line whatever the account is called', () => {
    const invited = samples.activation('en');
    const mail = renderer.render({ ...invited, data: { ...invited.data, accountName: 'Acme\r\nBcc: evil@example.com' } } as EventEnvelope)!;
    expect(mail.subject).toBe('Portico: activate your access to Acme Bcc: evil@example.com');
  });
});

describe('the two mails of a hand-over', () => {
  const handedOver = handOver({ newOwner: 'fr', previousOwner: 'en' });

  it('are asked by the event, one per person', () => {
    expect(templatesFor(handedOver)).toEqual(['ownership-received', 'ownership-handed-over']);
  });

  it('tell the new owner, in their language, which account is theirs now, from whom, and since when', () => {
    const mail = renderer.render(handedOver, 'ownership-received')!;
    expect(mail).toMatchObject({ to: 'grace@example.com', locale: 'fr', subject: 'Portico : vous êtes désormais propriétaire de Acme <Voice>' });
    expect(mail.text).toContain('Ada (ada@example.com) vous a transmis le compte Acme <Voice> sur Portico le 22 novembre 2026 à 10:00 UTC.');
  });

  it('tell the previous owner, in their language, to whom they handed it, the role chosen for them, and what to do if it was not them', () => {
    const mail = renderer.render(handedOver, 'ownership-handed-over')!;
    expect(mail).toMatchObject({ to: 'ada@example.com', locale: 'en', subject: 'Portico: you handed Acme <Voice> over to Grace' });
    expect(mail.text).toContain('On 22 November 2026 at 10:00 UTC you handed the account Acme <Voice> on Portico over to Grace (grace@example.com).');
    // Access gives the broadest built-in role instead should the chosen one be deleted meanwhile: the mail promises no role.
    expect(mail.text).toContain('Grace is now its owner; you stay a member of it. The role chosen for you at the hand-over was Admin.');
    expect(mail.text).not.toContain('you keep the role');
    expect(mail.text).toContain('If you did not, reset your password at once: https://panel.example.com/app/reset-password');
    expect(mail.html).toContain('<strong>Admin</strong>');
  });

  it.each([
    ['en', 'Grace is now its owner; you stay a member of it.\n', 'If you did not, reset your password at once'],
    ['fr', 'Grace en est désormais propriétaire ; vous en restez membre.\n', 'Sinon, réinitialisez immédiatement votre mot de passe'],
  ])('still warn the previous owner (%s) of an event without the role name, only without the role sentence', (locale, sentence, warning) => {
    for (const previousOwnerRoleName of [undefined, null, '', ' \n']) {
      const data = { ...handOver({ previousOwner: locale }).data, previousOwnerRoleName };
      const mail = renderer.render({ ...handedOver, data } as EventEnvelope, 'ownership-handed-over')!;
      expect(mail).toMatchObject({ to: 'ada@example.com', locale });
      expect(mail.text).toContain(sentence);
      expect(mail.text).toContain(warning);
      expect(mail.text).not.toMatch(/Admin|rôle|role/);
      expect(mail.html).not.toMatch(/<strong>\s*<\/strong>|rôle|role/);
      expect(mail.html).toContain(warning.replace('If you did not, reset', 'reset').replace('Sinon, réinitialisez', 'réinitialisez'));
    }
    const withoutRoleName: Record<string, unknown> = { ...handOver({ previousOwner: locale }).data };
    delete withoutRoleName.previousOwnerRoleName;
    expect(renderer.render({ ...handedOver, data: withoutRoleName } as unknown as EventEnvelope, 'ownership-handed-over')).toMatchSnapshot();
  });

  it('are not made from an event written before them (without the people)', () => {
    const older = event(Events.OwnershipTransferred, {
      accountId: ACCOUNT,
      fromUserId: 'u1',
      toUserId: 'u2',
      previousOwnerRole: 'builtin:Admin',
      ownerVersion: 1,
    });
    expect(() => renderer.render(older, 'ownership-received')).toThrow(IncompleteEventError);
    expect(() => renderer.render(older, 'ownership-handed-over')).toThrow(IncompleteEventError);
    const withoutRoleName = { ...handedOver, data: { ...handedOver.data, previousOwnerRoleName: undefined } } as EventEnvelope;
    expect(renderer.render(withoutRoleName, 'ownership-received')!.to).toBe('grace@example.com');
    expect(renderer.render(withoutRoleName, 'ownership-handed-over')!.to).toBe('ada@example.com');
  });

  it.each([
    ['an address that is not one', { newOwner: { email: 'grace@example.com, eve@example.com', firstName: 'Grace', locale: 'en' } }],
    ['a person that is not one', { previousOwner: 'ada@example.com' }],
    ['no first name', { newOwner: { email: 'grace@example.com', firstName: '', locale: 'en' } }],
  ])('are refused for an event with %s', (_label, change) => {
    const bad = { ...handedOver, data: { ...handedOver.data, ...change } } as EventEnvelope;
    expect(() => [renderer.render(bad, 'ownership-received'), renderer.render(bad, 'ownership-handed-over')]).toThrow(InvalidEventError);
  });
});

describe('the mails of a login moving to another e-mail', () => {
  it('ask the new address to confirm, naming the address the login leaves, with the expiry', () => {
    const mail = renderer.render(emailChangeRequested())!;
    expect(mail).toMatchObject({ template: 'email-change-confirm', to: 'ada.lovelace@example.org' });
    expect(mail.text).toContain('instead of ada@example.com');
    expect(mail.text).toContain('expires on 29 November 2026 at 10:00 UTC');
  });

  it('tell an address that already has a login that nothing changed, naming nobody and carrying no link to confirm', () => {
    const mail = renderer.render(emailChangeRequested({ inUse: true, token: undefined, expiresAt: undefined }))!;
    expect(mail).toMatchObject({ template: 'email-change-in-use', to: 'ada.lovelace@example.org' });
    expect(mail.text).toContain('Nothing was changed');
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).not.toContain('ada@example.com');
      expect(part).not.toContain('Ada');
      expect(part).not.toContain('confirm-email');
    }
  });

  it('refuse to ask for a confirmation without a token', () => {
    expect(() => renderer.render(emailChangeRequested({ token: undefined }))).toThrow(InvalidEventError);
  });

  it('tell the address the login left where it went and when, with the link that moves it back and its expiry', () => {
    const mail = renderer.render(samples['email-changed']('en'))!;
    expect(mail).toMatchObject({ template: 'email-changed', to: 'ada@example.com' });
    expect(mail.text).toContain('moved from ada@example.com to ada.lovelace@example.org');
    expect(mail.text).toContain('22 November 2026 at 09:59 UTC');
    expect(mail.text).toContain('If you did not, move it back here at once');
    expect(mail.text).toContain('expires on 29 November 2026 at 09:59 UTC');
    expect(mail.text).not.toContain('tell an administrator');
  });

  it('tell the address to ask an administrator when the event carries no link back, and refuse a link back without its expiry', () => {
    const { data } = samples['email-changed']('en') as EventEnvelope<typeof Events.EmailChanged>;
    const withoutLink = renderer.render(event(Events.EmailChanged, { ...data, undoToken: undefined, undoExpiresAt: undefined }))!;
    expect(withoutLink.text).toContain('If you did not, tell an administrator');
    expect(withoutLink.text + withoutLink.html).not.toContain('undo-email-change');
    expect(() => renderer.render(event(Events.EmailChanged, { ...data, undoExpiresAt: undefined }))).toThrow(InvalidEventError);
  });
});

describe("the notice of a subuser's e-mail changed by an admin", () => {
  it('goes to the address it had, naming the login, the account, the new address and when', () => {
    const mail = renderer.render(subuserEmailChanged())!;
    expect(mail).toMatchObject({ template: 'subuser-email-changed', to: 'ops@example.com' });
    expect(mail.text).toContain('changed the e-mail of your login "operator1" on Portico from ops@example.com to desk@example.com');
    expect(mail.text).toContain('22 November 2026 at 09:59 UTC');
  });

  it('still goes when the new address is one the API accepts but this mailer would not send to (a quoted local part), and refuses a notice without its time', () => {
    const mail = renderer.render(subuserEmailChanged({ email: '"front desk"@example.com' }))!;
    expect(mail.to).toBe('ops@example.com');
    expect(mail.text).toContain('to "front desk"@example.com');
    expect(() => renderer.render(subuserEmailChanged({ changedAt: '' }))).toThrow(InvalidEventError);
    expect(() => renderer.render(subuserEmailChanged({ previousEmail: 'ops@example.com\r\nBcc: eve@example.com' }))).toThrow(InvalidEventError);
  });

  it('says the e-mail was taken away when there is no new address', () => {
    const mail = renderer.render(subuserEmailChanged({ email: null }))!;
    expect(mail.to).toBe('ops@example.com');
    expect(mail.text).toContain('took the e-mail ops@example.com away from your login "operator1"');
    expect(mail.text).not.toContain('desk@example.com');
  });
});

describe('events that make no mail, or a bad one', () => {
  it('ignores account creation', () => {
    const created = event(Events.AccountCreated, { accountId: ACCOUNT, slug: 'acme', ownerUserId: 'u1' });
    expect(templatesFor(created)).toEqual([]);
    expect(renderer.render(created)).toBeNull();
  });

  it('makes only the mails an event asks for', () => {
    expect(renderer.render(samples.activation('en'), 'ownership-received')).toBeNull();
  });

  it.each(Object.values(Events))('knows %s, as it knows every event type this release publishes (none is kept for a newer release)', (type) => {
    expect(templatesFor({ ...samples.activation('en'), type } as EventEnvelope)).not.toBeNull();
  });

  it.each([
    Events.AccountCreated,
    Events.AccountClosed,
    Events.LinksVoided,
    Events.PrincipalActivityChanged,
    Events.RoleCreated,
    Events.RoleUpdated,
    Events.RoleDeleted,
    Events.ApplicationCreated,
    Events.ApplicationRenamed,
    Events.ApplicationDeleted,
    Events.BindingsReplaced,
  ])('knows that %s asks for no mail (its event is acknowledged at once)', (type) => {
    const known = { ...samples.activation('en'), type } as EventEnvelope;
    expect(templatesFor(known)).toEqual([]);
    expect(renderer.render(known)).toBeNull();
  });

  it('says of an event type it does not know that it cannot tell its mails (null: kept for a newer release), and renders none', () => {
    const unknown = { ...samples.activation('en'), type: 'identity.something.new' as EventType };
    expect(templatesFor(unknown)).toBeNull();
    expect(renderer.render(unknown)).toBeNull();
  });

  it.each([
    ['no address', { email: '' }],
    ['two addresses', { email: 'ada@example.com, eve@example.com' }],
    ['a display name', { email: 'Ada <ada@example.com>' }],
    ['a header break', { email: 'ada@example.com\r\nBcc: eve@example.com' }],
    ['no token', { token: '' }],
    ['no first name', { firstName: undefined }],
    ['a bad expiry', { expiresAt: 'soon' }],
    ['a NUL in the address', { email: 'ada\u0000@example.com' }],
    ['a control character in the address', { email: 'ada@exam\u0007ple.com' }],
    ['a NUL in the token', { token: 'token\u0000' }],
    ['a line break in the token', { token: 'token\nmore' }],
    ['a NUL after the expiry', { expiresAt: '2026-11-29T10:00:00.000Z\u0000' }],
    ['a first name made of control characters only', { firstName: '\u0000\r\n' }],
    ['a lone high surrogate in the token', { token: 'token\uD800' }],
    ['a lone low surrogate in the token', { token: '\uDC00token' }],
    ['a lone surrogate in the address', { email: 'ada\uD83D@example.com' }],
  ])('refuses an invitation with %s', (_label, change) => {
    const invited = samples.activation('en');
    expect(() => renderer.render({ ...invited, data: { ...invited.data, ...change } } as EventEnvelope)).toThrow(InvalidEventError);
  });

  // encodeURIComponent throws a URIError on a lone surrogate: not an InvalidEventError, the event would be retried for days.
  it.each([
    ['subuser-activation', 'accountSlug'],
    ['subuser-password-reset', 'accountSlug'],
    ['subuser-activation', 'token'],
    ['subuser-password-reset', 'token'],
    ['password-reset', 'token'],
    ['email-change-confirm', 'token'],
    ['email-changed', 'undoToken'],
  ] as Array<[MailTemplate, string]>)('refuses a %s event whose %s holds a lone surrogate as invalid, not with a URIError', (template, name) => {
    const sample = samples[template]('en');
    const data = sample.data as unknown as Record<string, unknown>;
    expect(() => renderer.render({ ...sample, data: { ...data, [name]: `${String(data[name])}\uD800` } } as unknown as EventEnvelope)).toThrow(
      InvalidEventError,
    );
  });

  it('takes a slug and a token with characters beyond the BMP (surrogate pairs) as they are', () => {
    const sample = samples['subuser-activation']('en');
    const mail = renderer.render({ ...sample, data: { ...sample.data, accountSlug: 'acme-\u{1F600}', token: 'sub\u{1F511}' } } as EventEnvelope)!;
    expect(mail.text).toContain('https://panel.example.com/app/login/acme-%F0%9F%98%80/activate?token=sub%F0%9F%94%91');
  });
});

describe('languages with template overrides', () => {
  let directory: string;
  let overridden: MailRenderer;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'portico-templates-'));
    const files = {
      'activation.de.subject': 'Willkommen {{name}}',
      'activation.de.text': 'Hallo {{name}}: {{link}} bis {{expiresAt}}',
      'activation.de.html': '<p>{{link}}</p>',
      'activation.fr-CA.subject': 'Bienvenue {{name}}',
      'activation.fr-CA.text': 'Bonjour {{name}} : {{link}} avant le {{expiresAt}}',
      'activation.fr-CA.html': '<p>{{link}}</p>',
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
    overridden = new MailRenderer(settings, TemplateCatalog.load(directory));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('use a regional locale for the templates it has', () => {
    const mail = overridden.render(samples.activation('fr-CA'))!;
    expect(mail).toMatchObject({ locale: 'fr-ca', subject: 'Bienvenue Ada' });
    expect(mail.text).toContain('avant le 29 novembre 2026 à 10 h 00 UTC'); // written the Canadian way
  });

  it('fall back to the language, then English, for the templates a locale lacks, with dates written the way of the template used', () => {
    const french = overridden.render(samples['password-reset']('fr-CA'))!;
    expect(french.locale).toBe('fr');
    expect(french.text).toContain('29 novembre 2026 à 10:00 UTC');

    const english = overridden.render(samples['password-reset']('de-AT'))!;
    expect(english.locale).toBe('en');
    expect(english.text).toContain('29 November 2026 at 10:00 UTC');
    expect(overridden.render(samples.activation('de-AT'))!.text).toContain('bis 29. November 2026 um 10:00 UTC');
  });
});

describe('formatInstant', () => {
  it('formats in UTC for each language', () => {
    expect(formatInstant('2026-01-05T23:30:00Z', 'en')).toBe('5 January 2026 at 23:30 UTC');
    expect(formatInstant('2026-01-05T23:30:00Z', 'fr')).toBe('5 janvier 2026 à 23:30 UTC');
  });
});
