import {
  Events,
  isMailableAddress,
  SECOND_STEP_CHANGES,
  type EmailChangedData,
  type EmailChangeRequestedData,
  type EventEnvelope,
  type MailContact,
  type MailTemplate,
  type OwnershipTransferredData,
  type PasswordChangedData,
  type PasswordResetRequestedData,
  type RecoveryCodeUsedData,
  type SecondStepBlockedData,
  type SecondStepChangedData,
  type SubuserEmailChangedData,
  type SubuserInvitedData,
  type UserAddedToAccountData,
  type UserInvitedData,
  webLink,
} from '#libs/contracts/index.js';
import { hasLoneSurrogate } from '#libs/platform/index.js';
import { hasControlCharacters, oneLine } from './control-characters.js';
import type { TemplateValues } from './template-engine.js';
import type { TemplateCatalog } from './template-catalog.js';

/** A mail ready for SMTP. */
export interface RenderedMail {
  template: MailTemplate;
  locale: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What every mail knows besides its event. */
export interface MailSettings {
  productName: string;
  publicWebUrl: string;
}

/** An event whose data cannot make a mail (missing or malformed field); it is recorded as failed, never retried. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** An event written before the mail it now asks for existed, without what that mail needs: the mail is skipped (logged), not recorded. */
export class IncompleteEventError extends Error {
  override name = 'IncompleteEventError';
}

/** What a template needs from an event, before its locale is known. */
interface Draft {
  template: MailTemplate;
  to: string;
  locale: string;
  values: (locale: string) => TemplateValues;
}

/** Recovery codes left at or under which the notice of a sign-in with one asks its owner to renew them. */
export const FEW_RECOVERY_CODES_LEFT = 2;

/** Turns mail-worthy events into mails (subject, text and HTML) in the person's language. */
export class MailRenderer {
  constructor(
    private readonly settings: MailSettings,
    private readonly catalog: TemplateCatalog,
  ) {}

  /**
   * The mail `template` of `event` (by default its first, for most events its only one), or null
   * when the event asks for no such mail. Throws {@link InvalidEventError} or {@link IncompleteEventError}.
   */
  render(event: EventEnvelope, template: MailTemplate | undefined = templatesFor(event)?.[0]): RenderedMail | null {
    if (template === undefined || !templatesFor(event)?.includes(template)) return null;
    const draft = this.draft(event, template);
    const locale = this.catalog.resolveLocale(draft.template, draft.locale);
    const parts = this.catalog.render(draft.template, locale, {
      productName: this.settings.productName,
      webUrl: this.settings.publicWebUrl,
      ...draft.values(locale),
    });
    return { template: draft.template, to: draft.to, ...parts };
  }

  private draft(event: EventEnvelope, template: MailTemplate): Draft {
    switch (template) {
      case 'activation':
        return this.activation(event.data as UserInvitedData);
      case 'added-to-account':
        return this.addedToAccount(event.data as UserAddedToAccountData);
      case 'subuser-activation':
        return this.subuserActivation(event.data as SubuserInvitedData);
      case 'password-reset':
      case 'subuser-password-reset':
        return this.passwordReset(event.data as PasswordResetRequestedData);
      case 'password-changed':
        return this.passwordChanged(event.data as PasswordChangedData);
      case 'ownership-received':
        return this.ownershipReceived(event);
      case 'ownership-handed-over':
        return this.ownershipHandedOver(event);
      case 'email-change-confirm':
        return this.emailChangeConfirm(event.data as EmailChangeRequestedData);
      case 'email-change-in-use':
        return this.emailChangeInUse(event.data as EmailChangeRequestedData);
      case 'email-changed':
        return this.emailChanged(event.data as EmailChangedData);
      case 'subuser-email-changed':
        return this.subuserEmailChanged(event.data as SubuserEmailChangedData);
      case 'second-step-changed':
        return this.secondStepChanged(event.data as SecondStepChangedData);
      case 'second-step-blocked':
        return this.secondStepBlocked(event.data as SecondStepBlockedData);
      case 'recovery-code-used':
        return this.recoveryCodeUsed(event.data as RecoveryCodeUsedData);
    }
  }

  /** An account's invitation: a person without a login sets their password (`/activate`); someone who has one accepts (`/accept-invitation`). */
  private activation(data: UserInvitedData): Draft {
    const token = field(data, 'token');
    const hasLogin = data.hasLogin === true;
    return {
      template: 'activation',
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'firstName'),
        email: data.email,
        accountName: displayName(data, 'accountName'),
        link: this.link(hasLogin ? '/accept-invitation' : '/activate', token),
        expiresAt: formatInstant(field(data, 'expiresAt'), locale),
        hasLogin,
      }),
    };
  }

  private addedToAccount(data: UserAddedToAccountData): Draft {
    return {
      template: 'added-to-account',
      to: address(data.email),
      locale: data.locale,
      values: () => ({ name: displayName(data, 'firstName'), email: data.email, accountName: displayName(data, 'accountName'), link: this.link('/login') }),
    };
  }

  private subuserActivation(data: SubuserInvitedData): Draft {
    const slug = encodeURIComponent(field(data, 'accountSlug'));
    const token = field(data, 'token');
    return {
      template: 'subuser-activation',
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        login: displayName(data, 'login'),
        email: data.email,
        accountName: displayName(data, 'accountName'),
        accountSlug: data.accountSlug,
        link: this.link(`/login/${slug}/activate`, token),
        loginPage: this.link(`/login/${slug}`),
        expiresAt: formatInstant(field(data, 'expiresAt'), locale),
      }),
    };
  }

  private passwordReset(data: PasswordResetRequestedData): Draft {
    const token = field(data, 'token');
    const byAdmin = data.requestedBy === 'admin';
    if (data.principalType === 'subuser') {
      const slug = encodeURIComponent(field(data, 'accountSlug'));
      return {
        template: 'subuser-password-reset',
        to: address(data.email),
        locale: data.locale,
        values: (locale) => ({
          login: displayName(data, 'name'),
          email: data.email,
          accountSlug: data.accountSlug ?? '',
          link: this.link(`/login/${slug}/reset-password`, token),
          loginPage: this.link(`/login/${slug}`),
          expiresAt: formatInstant(field(data, 'expiresAt'), locale),
          byAdmin,
        }),
      };
    }
    return {
      template: 'password-reset',
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'name'),
        email: data.email,
        link: this.link('/reset-password', token),
        expiresAt: formatInstant(field(data, 'expiresAt'), locale),
        byAdmin,
      }),
    };
  }

  private passwordChanged(data: PasswordChangedData): Draft {
    return this.noticeToLogin('password-changed', data);
  }

  private secondStepChanged(data: SecondStepChangedData): Draft {
    const change = field(data, 'change');
    if (!(SECOND_STEP_CHANGES as readonly string[]).includes(change)) throw new InvalidEventError(`not a change of a second step: ${change}`);
    return this.noticeToLogin('second-step-changed', data, {
      enabled: change === 'enabled',
      disabled: change === 'disabled',
      renewed: change === 'recovery-codes-renewed',
      byAdmin: change === 'reset-by-admin',
      byOperator: change === 'reset-by-operator',
    });
  }

  /** Too many wrong codes blocked the login's second step: how many, when, and the way back in (a new password). */
  private secondStepBlocked(data: SecondStepBlockedData): Draft {
    const wrongCodes = count(data, 'wrongCodes', 1);
    return this.noticeToLogin('second-step-blocked', { ...data, changedAt: field(data, 'blockedAt') }, { wrongCodes: String(wrongCodes) });
  }

  /**
   * A sign-in with a recovery code instead of the authenticator's: when, from which address and
   * device, how many codes are left (and, at {@link FEW_RECOVERY_CODES_LEFT} or fewer, to renew
   * them; at none, who can turn the second step off after a lost phone), and what to do if it was
   * not the login's owner.
   */
  private recoveryCodeUsed(data: RecoveryCodeUsedData): Draft {
    const codesLeft = count(data, 'codesLeft', 0);
    return this.noticeToLogin(
      'recovery-code-used',
      { ...data, changedAt: field(data, 'usedAt') },
      {
        ip: field(data, 'ip'),
        device: optionalName(data.device),
        codesLeft: String(codesLeft),
        fewLeft: codesLeft <= FEW_RECOVERY_CODES_LEFT,
        // None left: turning the second step off takes one, so a lost phone needs an administrator (a subuser) or the operator (a person).
        noneLeft: codesLeft === 0,
      },
    );
  }

  /** A security notice to a login's own e-mail about a change of its credentials, with `extra` values. */
  private noticeToLogin(template: MailTemplate, data: PasswordChangedData | SecondStepChangedData, extra: TemplateValues = {}): Draft {
    const subuser = data.principalType === 'subuser';
    return {
      template,
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'name'),
        email: data.email,
        subuser,
        changedAt: formatInstant(field(data, 'changedAt'), locale),
        // A subuser's reset page lives under its account's slug, which these events do not carry.
        link: subuser ? '' : this.link('/reset-password'),
        ...extra,
      }),
    };
  }

  private ownershipReceived(event: EventEnvelope): Draft {
    const data = handOver(event);
    const { newOwner, previousOwner } = data;
    return {
      template: 'ownership-received',
      to: address(newOwner.email),
      locale: newOwner.locale,
      values: (locale) => ({
        name: displayName(newOwner, 'firstName'),
        email: newOwner.email,
        accountName: displayName(data, 'accountName'),
        previousOwnerName: displayName(previousOwner, 'firstName'),
        previousOwnerEmail: displayName(previousOwner, 'email'),
        handedOverAt: formatInstant(event.occurredAt, locale),
        link: this.link('/login'),
      }),
    };
  }

  /**
   * A security notice: a hijacked session of an owner could hand the account away. It goes out
   * without the role's name too (a hand-over made through an older gateway): only that sentence is left out.
   */
  private ownershipHandedOver(event: EventEnvelope): Draft {
    const data = handOver(event);
    const { newOwner, previousOwner } = data;
    return {
      template: 'ownership-handed-over',
      to: address(previousOwner.email),
      locale: previousOwner.locale,
      values: (locale) => ({
        name: displayName(previousOwner, 'firstName'),
        email: previousOwner.email,
        accountName: displayName(data, 'accountName'),
        newOwnerName: displayName(newOwner, 'firstName'),
        newOwnerEmail: displayName(newOwner, 'email'),
        roleName: optionalName(data.previousOwnerRoleName),
        handedOverAt: formatInstant(event.occurredAt, locale),
        link: this.link('/reset-password'),
      }),
    };
  }

  /** The link that moves a login to the address it is mailed to. */
  private emailChangeConfirm(data: EmailChangeRequestedData): Draft {
    const token = field(data, 'token');
    return {
      template: 'email-change-confirm',
      to: address(data.newEmail),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'name'),
        email: data.newEmail,
        // Shown only: the mail goes to the new address.
        previousEmail: displayName(data, 'email'),
        link: this.link('/confirm-email', token),
        expiresAt: formatInstant(field(data, 'expiresAt'), locale),
      }),
    };
  }

  /** Word to an address that already has a login that someone asked to move theirs there: it names nobody. */
  private emailChangeInUse(data: EmailChangeRequestedData): Draft {
    return {
      template: 'email-change-in-use',
      to: address(data.newEmail),
      locale: data.locale,
      values: () => ({ email: data.newEmail, link: this.link('/login') }),
    };
  }

  /**
   * A security notice to the address a login left (a hijacked session with the password could move
   * it), with the link that moves it back; without one (an event that carries none), the notice
   * says to tell an administrator.
   */
  private emailChanged(data: EmailChangedData): Draft {
    const undo = data.undoToken === undefined ? null : { token: field(data, 'undoToken'), expiresAt: field(data, 'undoExpiresAt') };
    return {
      template: 'email-changed',
      to: address(data.previousEmail),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'name'),
        email: data.previousEmail,
        // Shown only: an address the contracts accept but SMTP here would not (a quoted local part) must not hold the notice back.
        newEmail: displayName(data, 'email'),
        changedAt: formatInstant(field(data, 'changedAt'), locale),
        link: undo ? this.link('/undo-email-change', undo.token) : '',
        expiresAt: undo ? formatInstant(undo.expiresAt, locale) : '',
      }),
    };
  }

  /** A security notice to a subuser's address until an admin changed it (or took it away). */
  private subuserEmailChanged(data: SubuserEmailChangedData): Draft {
    return {
      template: 'subuser-email-changed',
      to: address(data.previousEmail),
      locale: data.locale,
      values: (locale) => ({
        login: displayName(data, 'login'),
        email: data.previousEmail,
        newEmail: data.email === null ? '' : displayName(data, 'email'),
        accountName: displayName(data, 'accountName'),
        changedAt: formatInstant(field(data, 'changedAt'), locale),
      }),
    };
  }

  /** A link under PUBLIC_WEB_URL (its path kept), with the token as the only query parameter. */
  private link(path: string, token?: string): string {
    return webLink(this.settings.publicWebUrl, path, token);
  }
}

/**
 * The mails an event asks for, one per template (most events one, a hand-over two, some none), or
 * null for a type this release does not know: a newer identity published it, and it may ask for a
 * mail that only a newer notifications can make (so it is kept for one, never acknowledged unmailed).
 */
export function templatesFor(event: EventEnvelope): MailTemplate[] | null {
  switch (event.type) {
    case Events.UserInvited:
      return ['activation'];
    case Events.UserAddedToAccount:
      return ['added-to-account'];
    case Events.SubuserInvited:
      return ['subuser-activation'];
    case Events.PasswordResetRequested:
      return [(event.data as Partial<PasswordResetRequestedData> | null)?.principalType === 'subuser' ? 'subuser-password-reset' : 'password-reset'];
    case Events.PasswordChanged:
      return ['password-changed'];
    case Events.OwnershipTransferred:
      return ['ownership-received', 'ownership-handed-over'];
    case Events.EmailChangeRequested:
      return [(event.data as Partial<EmailChangeRequestedData> | null)?.inUse === true ? 'email-change-in-use' : 'email-change-confirm'];
    case Events.EmailChanged:
      return ['email-changed'];
    case Events.SubuserEmailChanged:
      return ['subuser-email-changed'];
    case Events.SecondStepChanged:
      return ['second-step-changed'];
    case Events.SecondStepBlocked:
      return ['second-step-blocked'];
    case Events.RecoveryCodeUsed:
      return ['recovery-code-used'];
    case Events.AccountCreated:
    case Events.AccountClosed:
    case Events.LinksVoided:
    case Events.PrincipalActivityChanged:
    case Events.RoleCreated:
    case Events.RoleUpdated:
    case Events.RoleDeleted:
    case Events.ApplicationCreated:
    case Events.ApplicationRenamed:
    case Events.ApplicationDeleted:
    case Events.BindingsReplaced:
      return [];
    default:
      return null;
  }
}

/** The part of an event's data that names the recipient of its mail `template` (its `email` and `locale`), for the record of a mail that cannot be made. */
export function recipientData(event: EventEnvelope, template: MailTemplate): { email?: unknown; locale?: unknown } {
  const data = (event.data ?? {}) as Partial<OwnershipTransferredData>;
  if (template === 'ownership-received') return data.newOwner ?? {};
  if (template === 'ownership-handed-over') return data.previousOwner ?? {};
  if (template === 'email-change-confirm' || template === 'email-change-in-use') {
    const request = data as Partial<EmailChangeRequestedData>;
    return { email: request.newEmail, locale: request.locale };
  }
  if (template === 'email-changed' || template === 'subuser-email-changed') {
    const change = data as Partial<EmailChangedData>;
    return { email: change.previousEmail, locale: change.locale };
  }
  return data as { email?: unknown; locale?: unknown };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** An instant as people read it in `locale`, in UTC (the only zone every reader shares): "29 November 2026 at 10:00 UTC". */
export function formatInstant(iso: string, locale: string): string {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) throw new InvalidEventError(`not an instant: ${iso}`);
  return `${dateFormat(locale).format(instant)} UTC`;
}

/** Building a DateTimeFormat costs far more than using one: one per locale, kept. */
function dateFormat(locale: string): Intl.DateTimeFormat {
  let format = formats.get(locale);
  if (!format) {
    const tag = { en: 'en-GB', fr: 'fr-FR' }[locale] ?? locale;
    const options: Intl.DateTimeFormatOptions = { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' };
    try {
      format = new Intl.DateTimeFormat(tag, options);
    } catch {
      format = new Intl.DateTimeFormat('en-GB', options);
    }
    formats.set(locale, format);
  }
  return format;
}

/**
 * A single-line value the mail depends on (token, slug, date): present, without control characters,
 * and Unicode text (a lone surrogate would make the link's encodeURIComponent throw, not a refusal).
 */
function field<T extends object>(data: T, name: keyof T & string): string {
  const value = (data as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidEventError(`the event has no ${name}`);
  if (hasControlCharacters(value)) throw new InvalidEventError(`the event's ${name} contains control characters`);
  if (hasLoneSurrogate(value)) throw new InvalidEventError(`the event's ${name} is not Unicode text (a lone surrogate)`);
  return value;
}

/** A count the mail depends on: an integer, `least` or more. */
function count<T extends object>(data: T, name: keyof T & string, least: number): number {
  const value = (data as Record<string, unknown>)[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least) throw new InvalidEventError(`the event has no count of ${name}`);
  return value;
}

/** A name shown in the mail (a person's, a login, an account's): present once put on one line, which rendering does. */
function displayName<T extends object>(data: T, key: keyof T & string): string {
  const value = (data as Record<string, unknown>)[key];
  if (typeof value !== 'string' || oneLine(value) === '') throw new InvalidEventError(`the event has no ${key}`);
  return value;
}

/** A name the mail can do without: '' (its sentence left out) when absent or blank. */
function optionalName(value: unknown): string {
  return typeof value === 'string' && oneLine(value) !== '' ? value : '';
}

/** What both hand-over mails need of the event's data: an event written before the hand-over mails has none of it. */
const HAND_OVER_NEEDS = ['accountName', 'newOwner', 'previousOwner'] as const;

/** A hand-over's data with {@link HAND_OVER_NEEDS}, both people among them. */
function handOver(event: EventEnvelope): OwnershipTransferredData & { newOwner: MailContact; previousOwner: MailContact } {
  const data = event.data as OwnershipTransferredData;
  const missing = HAND_OVER_NEEDS.filter((name) => data[name] === undefined || data[name] === null);
  if (missing.length > 0) throw new IncompleteEventError(`the event has no ${missing.join(', ')} (written before the hand-over mails)`);
  for (const person of ['newOwner', 'previousOwner'] as const) {
    if (typeof data[person] !== 'object') throw new InvalidEventError(`the event's ${person} is not a person`);
  }
  return data as OwnershipTransferredData & { newOwner: MailContact; previousOwner: MailContact };
}

/** One plain address, as every e-mail field of the API takes (libs/contracts): no display name, no list, nothing a header could be bent with. */
function address(value: unknown): string {
  if (!isMailableAddress(value)) throw new InvalidEventError('the event has no usable e-mail address');
  return value;
}
