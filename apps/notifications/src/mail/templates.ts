import type { UserInvitedData } from '#libs/contracts/index.js';

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

/** Escapes text for HTML. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);
}
