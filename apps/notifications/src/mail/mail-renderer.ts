import {
  Events,
  type EventEnvelope,
  type MailTemplate,
  type PasswordChangedData,
  type PasswordResetRequestedData,
  type SubuserInvitedData,
  type UserAddedToAccountData,
  type UserInvitedData,
} from '#libs/contracts/index.js';
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

/** What a template needs from an event, before its locale is known. */
interface Draft {
  template: MailTemplate;
  to: string;
  locale: string;
  values: (locale: string) => TemplateValues;
}

/** One plain address: no display name, no list, nothing a header could be bent with. */
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/** Turns mail-worthy events into mails (subject, text and HTML) in the person's language. */
export class MailRenderer {
  constructor(
    private readonly settings: MailSettings,
    private readonly catalog: TemplateCatalog,
  ) {}

  /** The mail of `event`, or null when the event asks for none. Throws {@link InvalidEventError}. */
  render(event: EventEnvelope): RenderedMail | null {
    const draft = this.draft(event);
    if (!draft) return null;
    const locale = this.catalog.resolveLocale(draft.template, draft.locale);
    const parts = this.catalog.render(draft.template, locale, {
      productName: this.settings.productName,
      webUrl: this.settings.publicWebUrl,
      ...draft.values(locale),
    });
    return { template: draft.template, to: draft.to, ...parts };
  }

  private draft(event: EventEnvelope): Draft | null {
    const template = templateFor(event);
    switch (template) {
      case null:
        return null;
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
    }
  }

  private activation(data: UserInvitedData): Draft {
    const token = field(data, 'token');
    return {
      template: 'activation',
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'firstName'),
        email: data.email,
        accountName: displayName(data, 'accountName'),
        link: this.link('/activate', token),
        expiresAt: formatInstant(field(data, 'expiresAt'), locale),
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
    const subuser = data.principalType === 'subuser';
    return {
      template: 'password-changed',
      to: address(data.email),
      locale: data.locale,
      values: (locale) => ({
        name: displayName(data, 'name'),
        email: data.email,
        subuser,
        changedAt: formatInstant(field(data, 'changedAt'), locale),
        // A subuser's reset page lives under its account's slug, which this event does not carry.
        link: subuser ? '' : this.link('/reset-password'),
      }),
    };
  }

  /** A link under PUBLIC_WEB_URL (its path kept), with the token as the only query parameter. */
  private link(path: string, token?: string): string {
    return webLink(this.settings.publicWebUrl, path, token);
  }
}

/** The template an event asks for; null for events that make no mail. */
export function templateFor(event: EventEnvelope): MailTemplate | null {
  switch (event.type) {
    case Events.UserInvited:
      return 'activation';
    case Events.UserAddedToAccount:
      return 'added-to-account';
    case Events.SubuserInvited:
      return 'subuser-activation';
    case Events.PasswordResetRequested:
      return (event.data as Partial<PasswordResetRequestedData> | null)?.principalType === 'subuser' ? 'subuser-password-reset' : 'password-reset';
    case Events.PasswordChanged:
      return 'password-changed';
    case Events.AccountCreated:
    case Events.LinksVoided:
    case Events.OwnershipTransferred:
      return null;
    default:
      return null;
  }
}

/** `base` + `path` (the base's own path kept), with `?token=` when a token is given. */
export function webLink(base: string, path: string, token?: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  url.hash = '';
  return url.toString();
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

/** A single-line value the mail depends on (token, slug, date): present, and without control characters. */
function field<T extends object>(data: T, name: keyof T & string): string {
  const value = (data as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidEventError(`the event has no ${name}`);
  if (hasControlCharacters(value)) throw new InvalidEventError(`the event's ${name} contains control characters`);
  return value;
}

/** A name shown in the mail (a person's, a login, an account's): present once put on one line, which rendering does. */
function displayName<T extends object>(data: T, key: keyof T & string): string {
  const value = (data as Record<string, unknown>)[key];
  if (typeof value !== 'string' || oneLine(value) === '') throw new InvalidEventError(`the event has no ${key}`);
  return value;
}

function address(value: unknown): string {
  if (typeof value !== 'string' || value.length > 254 || hasControlCharacters(value) || !ADDRESS.test(value))
    throw new InvalidEventError('the event has no usable e-mail address');
  return value;
}
