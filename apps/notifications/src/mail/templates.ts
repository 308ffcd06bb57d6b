import type { PasswordChangedData, PasswordResetRequestedData, SubuserInvitedData, UserAddedToAccountData, UserInvitedData } from '#libs/contracts/index.js';

/** A rendered mail. */
export interface RenderedMail {
  template: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What every template knows besides its event. */
export interface MailSettings {
  productName: string;
  publicWebUrl: string;
}

/** The activation link of an invitation. */
export function activationLink(settings: MailSettings, token: string): string {
  return new URL(`/activate?token=${encodeURIComponent(token)}`, settings.publicWebUrl).toString();
}

/** "Set your password": sent to a new person invited to (or creating) an account. */
export function renderActivation(settings: MailSettings, data: UserInvitedData): RenderedMail {
  const link = activationLink(settings, data.token);
  const expires = new Date(data.expiresAt).toUTCString();
  const subject = `${settings.productName}: activate your access to ${data.accountName}`;
  const text = [
    `Hello ${data.firstName},`,
    '',
    `You have been given access to ${data.accountName} on ${settings.productName}.`,
    'Set your password to activate your profile:',
    '',
    link,
    '',
    `This link works once and expires on ${expires}.`,
    'If you did not expect this mail, you can ignore it.',
  ].join('\n');
  const html = `<!doctype html><html><body><p>Hello ${escapeHtml(data.firstName)},</p><p>You have been given access to <b>${escapeHtml(data.accountName)}</b> on ${escapeHtml(settings.productName)}.</p><p><a href="${escapeHtml(link)}">Set your password</a></p><p>This link works once and expires on ${escapeHtml(expires)}.</p></body></html>`;
  return { template: 'activation', to: data.email, subject, text, html };
}

// Minimal plain renderers for identity's other events (issue 4); the full templates (en/fr) replace them.

/** A plain mail: the text, and the same paragraphs as HTML with links made clickable. */
function plain(template: string, to: string, subject: string, paragraphs: string[]): RenderedMail {
  const html = `<!doctype html><html><body>${paragraphs
    .map((paragraph) =>
      /^https?:\/\//.test(paragraph) ? `<p><a href="${escapeHtml(paragraph)}">${escapeHtml(paragraph)}</a></p>` : `<p>${escapeHtml(paragraph)}</p>`,
    )
    .join('')}</body></html>`;
  return { template, to, subject, text: paragraphs.join('\n\n'), html };
}

function link(settings: MailSettings, path: string, token: string): string {
  return new URL(`${path}?token=${encodeURIComponent(token)}`, settings.publicWebUrl).toString();
}

/** "You were added to an account": a person who already has a login. */
export function renderAddedToAccount(settings: MailSettings, data: UserAddedToAccountData): RenderedMail {
  return plain('added-to-account', data.email, `${settings.productName}: you now have access to ${data.accountName}`, [
    `Hello ${data.firstName},`,
    `You have been given access to ${data.accountName} on ${settings.productName}. Sign in with your usual e-mail and password.`,
    new URL('/', settings.publicWebUrl).toString(),
  ]);
}

/** A subuser sets its password on its account's own page. */
export function renderSubuserActivation(settings: MailSettings, data: SubuserInvitedData): RenderedMail {
  return plain('subuser-activation', data.email, `${settings.productName}: activate the login ${data.login} of ${data.accountName}`, [
    `A login "${data.login}" was created for you in ${data.accountName} on ${settings.productName}. Set its password:`,
    link(settings, `/login/${encodeURIComponent(data.accountSlug)}/activate`, data.token),
    `This link works once and expires on ${new Date(data.expiresAt).toUTCString()}.`,
  ]);
}

/** A reset link (asked by the person or sent by an admin). */
export function renderPasswordReset(settings: MailSettings, data: PasswordResetRequestedData): RenderedMail {
  const path = data.principalType === 'subuser' && data.accountSlug ? `/login/${encodeURIComponent(data.accountSlug)}/reset-password` : '/reset-password';
  return plain('password-reset', data.email, `${settings.productName}: reset your password`, [
    `Hello ${data.name},`,
    data.requestedBy === 'admin' ? 'An administrator sent you this link to choose a new password:' : 'Someone (hopefully you) asked to reset your password:',
    link(settings, path, data.token),
    `This link works once and expires on ${new Date(data.expiresAt).toUTCString()}. If you did not ask for it, ignore this mail: nothing changes.`,
  ]);
}

/** The notice after a password change or reset. */
export function renderPasswordChanged(settings: MailSettings, data: PasswordChangedData): RenderedMail {
  return plain('password-changed', data.email, `${settings.productName}: your password was changed`, [
    `Hello ${data.name},`,
    `Your ${settings.productName} password was changed on ${new Date(data.changedAt).toUTCString()}, and every session was signed out.`,
    'If this was not you, reset your password now and tell your administrator.',
  ]);
}

/** Escapes text for HTML. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);
}
