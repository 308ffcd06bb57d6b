import type { MailTemplate } from '#libs/contracts/index.js';

/** The three parts of a mail in one locale. */
export interface TemplateSource {
  subject: string;
  text: string;
  html: string;
}

/** The parts of a template file name: `<template>.<locale>.<part>`. */
export const TEMPLATE_PARTS = ['subject', 'text', 'html'] as const;
/** One of {@link TEMPLATE_PARTS}. */
export type TemplatePart = (typeof TEMPLATE_PARTS)[number];

/** The locale used when the person's (or account's) locale has no template. */
export const DEFAULT_LOCALE = 'en';

/** The values each template is given (an override using any other name is refused at start). */
export const TEMPLATE_VALUES: Record<MailTemplate, readonly string[]> = {
  activation: ['productName', 'name', 'email', 'accountName', 'link', 'expiresAt', 'hasLogin', 'webUrl'],
  'added-to-account': ['productName', 'name', 'email', 'accountName', 'link', 'webUrl'],
  'subuser-activation': ['productName', 'login', 'email', 'accountName', 'accountSlug', 'link', 'loginPage', 'expiresAt', 'webUrl'],
  'password-reset': ['productName', 'name', 'email', 'link', 'expiresAt', 'byAdmin', 'webUrl'],
  'subuser-password-reset': ['productName', 'login', 'email', 'accountSlug', 'link', 'loginPage', 'expiresAt', 'byAdmin', 'webUrl'],
  'password-changed': ['productName', 'name', 'email', 'subuser', 'changedAt', 'link', 'webUrl'],
  'ownership-received': ['productName', 'name', 'email', 'accountName', 'previousOwnerName', 'previousOwnerEmail', 'handedOverAt', 'link', 'webUrl'],
  'ownership-handed-over': ['productName', 'name', 'email', 'accountName', 'newOwnerName', 'newOwnerEmail', 'roleName', 'handedOverAt', 'link', 'webUrl'],
  'email-change-confirm': ['productName', 'name', 'email', 'previousEmail', 'link', 'expiresAt', 'webUrl'],
  'email-change-in-use': ['productName', 'email', 'link', 'webUrl'],
  'email-changed': ['productName', 'name', 'email', 'newEmail', 'changedAt', 'link', 'expiresAt', 'webUrl'],
  'subuser-email-changed': ['productName', 'login', 'email', 'newEmail', 'accountName', 'changedAt', 'webUrl'],
  'second-step-changed': ['productName', 'name', 'email', 'subuser', 'enabled', 'disabled', 'renewed', 'byAdmin', 'byOperator', 'changedAt', 'link', 'webUrl'],
  'second-step-blocked': ['productName', 'name', 'email', 'subuser', 'wrongCodes', 'changedAt', 'link', 'webUrl'],
  'recovery-code-used': ['productName', 'name', 'email', 'subuser', 'changedAt', 'ip', 'device', 'codesLeft', 'fewLeft', 'noneLeft', 'link', 'webUrl'],
};

function layout(lang: string, body: string): string {
  return [
    '<!doctype html>',
    `<html lang="${lang}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>',
    '<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,\'Segoe UI\',Helvetica,Arial,sans-serif;color:#1f2328;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">',
    '<p style="font-size:13px;color:#57606a;margin:0 0 24px">{{productName}}</p>',
    body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function button(label: string): string {
  return `<p><a href="{{link}}" style="display:inline-block;background:#0969da;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none">${label}</a></p>`;
}

const copyLink = {
  en: '<p style="font-size:13px;color:#57606a">Or copy this link into your browser:<br><a href="{{link}}">{{link}}</a></p>',
  fr: '<p style="font-size:13px;color:#57606a">Ou copiez ce lien dans votre navigateur :<br><a href="{{link}}">{{link}}</a></p>',
};

const en: Record<MailTemplate, TemplateSource> = {
  activation: {
    subject: '{{productName}}: {{#hasLogin}}join {{accountName}}{{/hasLogin}}{{^hasLogin}}activate your access to {{accountName}}{{/hasLogin}}',
    text: [
      'Hello {{name}},',
      '',
      '{{#hasLogin}}You have been invited to {{accountName}} on {{productName}}.',
      'Accept the invitation to work in it with the login you have (your password stays the same):{{/hasLogin}}{{^hasLogin}}You have been given access to {{accountName}} on {{productName}}.',
      'Set your password to activate your profile:{{/hasLogin}}',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}.',
      'If you did not expect this mail, you can ignore it.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '{{#hasLogin}}<p>You have been invited to <strong>{{accountName}}</strong> on {{productName}}. Accept the invitation to work in it with the login you have (your password stays the same).</p>',
        `${button('Accept the invitation')}{{/hasLogin}}{{^hasLogin}}<p>You have been given access to <strong>{{accountName}}</strong> on {{productName}}. Set your password to activate your profile.</p>`,
        `${button('Set your password')}{{/hasLogin}}`,
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}.</p>',
        '<p style="font-size:13px;color:#57606a">If you did not expect this mail, you can ignore it.</p>',
      ].join('\n'),
    ),
  },
  'added-to-account': {
    subject: '{{productName}}: you now have access to {{accountName}}',
    text: [
      'Hello {{name}},',
      '',
      'You have been added to {{accountName}} on {{productName}}.',
      'Sign in with your usual e-mail address and password to find it among your accounts:',
      '',
      '{{link}}',
      '',
      'If you did not expect this, contact the administrators of {{accountName}}.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>You have been added to <strong>{{accountName}}</strong> on {{productName}}. Sign in with your usual e-mail address and password to find it among your accounts.</p>',
        button('Sign in'),
        copyLink.en,
        '<p style="font-size:13px;color:#57606a">If you did not expect this, contact the administrators of {{accountName}}.</p>',
      ].join('\n'),
    ),
  },
  'subuser-activation': {
    subject: '{{productName}}: set the password of your login {{login}} at {{accountName}}',
    text: [
      'Hello,',
      '',
      'A login "{{login}}" was created for you in {{accountName}} on {{productName}}.',
      'Set its password here:',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}.',
      'Afterwards, sign in on the login page of {{accountName}}: {{loginPage}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello,</p>',
        '<p>A login <strong>{{login}}</strong> was created for you in <strong>{{accountName}}</strong> on {{productName}}. Set its password to start using it.</p>',
        button('Set the password'),
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}.</p>',
        '<p>Afterwards, sign in on the login page of {{accountName}}: <a href="{{loginPage}}">{{loginPage}}</a></p>',
      ].join('\n'),
    ),
  },
  'password-reset': {
    subject: '{{productName}}: reset your password',
    text: [
      'Hello {{name}},',
      '',
      '{{#byAdmin}}An administrator of your account asked for a password reset for you on {{productName}}.{{/byAdmin}}{{^byAdmin}}Someone (hopefully you) asked to reset your password on {{productName}}.{{/byAdmin}}',
      'Choose a new password here:',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}.',
      'If you did not ask for it, ignore this mail: your password stays as it is.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>{{#byAdmin}}An administrator of your account asked for a password reset for you on {{productName}}.{{/byAdmin}}{{^byAdmin}}Someone (hopefully you) asked to reset your password on {{productName}}.{{/byAdmin}}</p>',
        button('Choose a new password'),
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}.</p>',
        '<p style="font-size:13px;color:#57606a">If you did not ask for it, ignore this mail: your password stays as it is.</p>',
      ].join('\n'),
    ),
  },
  'subuser-password-reset': {
    subject: '{{productName}}: reset the password of {{login}}',
    text: [
      'Hello,',
      '',
      '{{#byAdmin}}An administrator asked for a new password for your login "{{login}}" ({{accountSlug}}) on {{productName}}.{{/byAdmin}}{{^byAdmin}}Someone (hopefully you) asked to reset the password of your login "{{login}}" ({{accountSlug}}) on {{productName}}.{{/byAdmin}}',
      'Choose a new password here:',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}.',
      'If you did not ask for it, ignore this mail: your password stays as it is.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello,</p>',
        '<p>{{#byAdmin}}An administrator asked for a new password for your login <strong>{{login}}</strong> ({{accountSlug}}) on {{productName}}.{{/byAdmin}}{{^byAdmin}}Someone (hopefully you) asked to reset the password of your login <strong>{{login}}</strong> ({{accountSlug}}) on {{productName}}.{{/byAdmin}}</p>',
        button('Choose a new password'),
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}.</p>',
        '<p style="font-size:13px;color:#57606a">If you did not ask for it, ignore this mail: your password stays as it is.</p>',
      ].join('\n'),
    ),
  },
  'password-changed': {
    subject: '{{productName}}: your password was changed',
    text: [
      'Hello {{name}},',
      '',
      'The password of your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} was changed on {{changedAt}}.',
      'If you did it, there is nothing more to do.',
      '{{#link}}If you did not, reset it at once: {{link}}{{/link}}{{^link}}If you did not, ask an administrator of your account to reset it at once.{{/link}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>The password of your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} was changed on {{changedAt}}.</p>',
        '<p>If you did it, there is nothing more to do.</p>',
        '<p><strong>{{#link}}If you did not, <a href="{{link}}">reset it at once</a>.{{/link}}{{^link}}If you did not, ask an administrator of your account to reset it at once.{{/link}}</strong></p>',
      ].join('\n'),
    ),
  },
  'ownership-received': {
    subject: '{{productName}}: you are now the owner of {{accountName}}',
    text: [
      'Hello {{name}},',
      '',
      '{{previousOwnerName}} ({{previousOwnerEmail}}) handed the account {{accountName}} on {{productName}} over to you on {{handedOverAt}}.',
      'You are now its owner: you hold every permission in it, and only you can hand it over to someone else.',
      '',
      '{{link}}',
      '',
      'If you did not expect this, contact {{previousOwnerName}} ({{previousOwnerEmail}}).',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>{{previousOwnerName}} ({{previousOwnerEmail}}) handed the account <strong>{{accountName}}</strong> on {{productName}} over to you on {{handedOverAt}}.</p>',
        '<p>You are now its owner: you hold every permission in it, and only you can hand it over to someone else.</p>',
        button('Sign in'),
        copyLink.en,
        '<p style="font-size:13px;color:#57606a">If you did not expect this, contact {{previousOwnerName}} ({{previousOwnerEmail}}).</p>',
      ].join('\n'),
    ),
  },
  'ownership-handed-over': {
    subject: '{{productName}}: you handed {{accountName}} over to {{newOwnerName}}',
    text: [
      'Hello {{name}},',
      '',
      'On {{handedOverAt}} you handed the account {{accountName}} on {{productName}} over to {{newOwnerName}} ({{newOwnerEmail}}).',
      '{{newOwnerName}} is now its owner; you stay a member of it.{{#roleName}} The role chosen for you at the hand-over was {{roleName}}.{{/roleName}}',
      'If you did it, there is nothing more to do.',
      'If you did not, reset your password at once: {{link}}',
      'Then ask {{newOwnerName}} to hand the account back to you.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>On {{handedOverAt}} you handed the account <strong>{{accountName}}</strong> on {{productName}} over to {{newOwnerName}} ({{newOwnerEmail}}).</p>',
        '<p>{{newOwnerName}} is now its owner; you stay a member of it.{{#roleName}} The role chosen for you at the hand-over was <strong>{{roleName}}</strong>.{{/roleName}}</p>',
        '<p>If you did it, there is nothing more to do.</p>',
        '<p><strong>If you did not, <a href="{{link}}">reset your password at once</a> and ask {{newOwnerName}} to hand the account back to you.</strong></p>',
      ].join('\n'),
    ),
  },
  'email-change-confirm': {
    subject: '{{productName}}: confirm your new login e-mail',
    text: [
      'Hello {{name}},',
      '',
      'You asked to sign in to {{productName}} with {{email}} instead of {{previousEmail}}.',
      'Confirm that this address is yours:',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}. Until it is used, you keep signing in with {{previousEmail}}.',
      'If you did not ask for it, ignore this mail: nothing changes.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>You asked to sign in to {{productName}} with <strong>{{email}}</strong> instead of {{previousEmail}}. Confirm that this address is yours.</p>',
        button('Confirm this address'),
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}. Until it is used, you keep signing in with {{previousEmail}}.</p>',
        '<p style="font-size:13px;color:#57606a">If you did not ask for it, ignore this mail: nothing changes.</p>',
      ].join('\n'),
    ),
  },
  'email-change-in-use': {
    subject: '{{productName}}: this address already has a login',
    text: [
      'Hello,',
      '',
      'Someone asked to move their {{productName}} login to {{email}}, but this address already signs in to {{productName}}. Nothing was changed.',
      'If it was you, sign in with this address as usual: {{link}}',
      'If it was not, ignore this mail.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello,</p>',
        '<p>Someone asked to move their {{productName}} login to <strong>{{email}}</strong>, but this address already signs in to {{productName}}. Nothing was changed.</p>',
        '<p>If it was you, <a href="{{link}}">sign in with this address</a> as usual.</p>',
        '<p style="font-size:13px;color:#57606a">If it was not, ignore this mail.</p>',
      ].join('\n'),
    ),
  },
  'email-changed': {
    subject: '{{productName}}: your login e-mail was changed',
    text: [
      'Hello {{name}},',
      '',
      'On {{changedAt}}, your {{productName}} login moved from {{email}} to {{newEmail}}. You now sign in, and receive password resets, at {{newEmail}}.',
      'If you did it, there is nothing more to do.',
      '{{#link}}If you did not, move it back here at once: every session ends, and you choose a new password from a mail sent here.',
      '',
      '{{link}}',
      '',
      'This link works once and expires on {{expiresAt}}.{{/link}}{{^link}}If you did not, tell an administrator of your account at once: they can end the sessions of that login.{{/link}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>On {{changedAt}}, your {{productName}} login moved from {{email}} to <strong>{{newEmail}}</strong>. You now sign in, and receive password resets, at {{newEmail}}.</p>',
        '<p>If you did it, there is nothing more to do.</p>',
        '{{#link}}<p><strong>If you did not, move it back here at once:</strong> every session ends, and you choose a new password from a mail sent here.</p>',
        button('It was not me: move it back'),
        copyLink.en,
        '<p>This link works once and expires on {{expiresAt}}.</p>{{/link}}{{^link}}<p><strong>If you did not, tell an administrator of your account at once: they can end the sessions of that login.</strong></p>{{/link}}',
      ].join('\n'),
    ),
  },
  'subuser-email-changed': {
    subject: '{{productName}}: the e-mail of your login {{login}} was changed',
    text: [
      'Hello,',
      '',
      '{{#newEmail}}On {{changedAt}}, an administrator of {{accountName}} changed the e-mail of your login "{{login}}" on {{productName}} from {{email}} to {{newEmail}}. Password resets for it now go there.{{/newEmail}}{{^newEmail}}On {{changedAt}}, an administrator of {{accountName}} took the e-mail {{email}} away from your login "{{login}}" on {{productName}}. Password resets for it are no longer mailed.{{/newEmail}}',
      'Links mailed here before no longer work.',
      'If you did not expect this, contact the administrators of {{accountName}}.',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello,</p>',
        '<p>{{#newEmail}}On {{changedAt}}, an administrator of <strong>{{accountName}}</strong> changed the e-mail of your login <strong>{{login}}</strong> on {{productName}} from {{email}} to <strong>{{newEmail}}</strong>. Password resets for it now go there.{{/newEmail}}{{^newEmail}}On {{changedAt}}, an administrator of <strong>{{accountName}}</strong> took the e-mail {{email}} away from your login <strong>{{login}}</strong> on {{productName}}. Password resets for it are no longer mailed.{{/newEmail}}</p>',
        '<p>Links mailed here before no longer work.</p>',
        '<p style="font-size:13px;color:#57606a">If you did not expect this, contact the administrators of {{accountName}}.</p>',
      ].join('\n'),
    ),
  },
  'second-step-changed': {
    subject:
      '{{productName}}: {{#enabled}}two-step sign-in was turned on{{/enabled}}{{#disabled}}two-step sign-in was turned off{{/disabled}}{{#renewed}}your recovery codes were replaced{{/renewed}}{{#byAdmin}}an administrator turned off your two-step sign-in{{/byAdmin}}{{#byOperator}}support turned off your two-step sign-in{{/byOperator}}',
    text: [
      'Hello {{name}},',
      '',
      '{{#enabled}}Two-step sign-in was turned on for your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in now asks for a code of an authenticator app after the password, and every other session was ended.{{/enabled}}{{#disabled}}Two-step sign-in was turned off for your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in now asks for the password alone.{{/disabled}}{{#renewed}}The recovery codes of your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} were replaced on {{changedAt}}: the old ones no longer work.{{/renewed}}{{#byAdmin}}An administrator of your account turned off two-step sign-in for your {{productName}} login on {{changedAt}}: it signs in with its password alone until you set it up again.{{/byAdmin}}{{#byOperator}}The support of {{productName}} turned off two-step sign-in for your {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in asks for the password alone until you set it up again.{{/byOperator}}',
      '{{^byAdmin}}{{^byOperator}}If this was you, there is nothing more to do.{{/byOperator}}{{/byAdmin}}',
      '{{#enabled}}{{#link}}If it was not, someone knows your password and set up an authenticator of their own: reset your password at once ({{link}}), and ask the support of {{productName}} to remove that authenticator (a new password alone does not).{{/link}}{{^link}}If it was not, ask an administrator of your account at once to turn it off and to reset your password.{{/link}}{{/enabled}}{{#disabled}}{{#link}}If it was not, someone knows your password and a code of yours: reset your password at once ({{link}}), then set up two-step sign-in again.{{/link}}{{^link}}If it was not, tell an administrator of your account at once.{{/link}}{{/disabled}}{{#renewed}}{{#link}}If it was not, someone knows your password and a code of yours: reset your password at once ({{link}}), then replace your recovery codes.{{/link}}{{^link}}If it was not, tell an administrator of your account at once.{{/link}}{{/renewed}}{{#byAdmin}}If you did not ask for it, tell the administrators of your account.{{/byAdmin}}{{#byOperator}}{{#link}}If you did not ask for it, reset your password at once ({{link}}) and tell the support of {{productName}}.{{/link}}{{^link}}If you did not ask for it, tell an administrator of your account and the support of {{productName}} at once.{{/link}}{{/byOperator}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>{{#enabled}}Two-step sign-in was turned on for your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in now asks for a code of an authenticator app after the password, and every other session was ended.{{/enabled}}{{#disabled}}Two-step sign-in was turned off for your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in now asks for the password alone.{{/disabled}}{{#renewed}}The recovery codes of your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} were replaced on {{changedAt}}: the old ones no longer work.{{/renewed}}{{#byAdmin}}An administrator of your account turned off two-step sign-in for your {{productName}} login on {{changedAt}}: it signs in with its password alone until you set it up again.{{/byAdmin}}{{#byOperator}}The support of {{productName}} turned off two-step sign-in for your {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} on {{changedAt}}: signing in asks for the password alone until you set it up again.{{/byOperator}}</p>',
        '{{^byAdmin}}{{^byOperator}}<p>If this was you, there is nothing more to do.</p>{{/byOperator}}{{/byAdmin}}',
        '<p><strong>{{#enabled}}{{#link}}If it was not, someone knows your password and set up an authenticator of their own: <a href="{{link}}">reset your password at once</a>, and ask the support of {{productName}} to remove that authenticator (a new password alone does not).{{/link}}{{^link}}If it was not, ask an administrator of your account at once to turn it off and to reset your password.{{/link}}{{/enabled}}{{#disabled}}{{#link}}If it was not, someone knows your password and a code of yours: <a href="{{link}}">reset your password at once</a>, then set up two-step sign-in again.{{/link}}{{^link}}If it was not, tell an administrator of your account at once.{{/link}}{{/disabled}}{{#renewed}}{{#link}}If it was not, someone knows your password and a code of yours: <a href="{{link}}">reset your password at once</a>, then replace your recovery codes.{{/link}}{{^link}}If it was not, tell an administrator of your account at once.{{/link}}{{/renewed}}{{#byAdmin}}If you did not ask for it, tell the administrators of your account.{{/byAdmin}}{{#byOperator}}{{#link}}If you did not ask for it, <a href="{{link}}">reset your password at once</a> and tell the support of {{productName}}.{{/link}}{{^link}}If you did not ask for it, tell an administrator of your account and the support of {{productName}} at once.{{/link}}{{/byOperator}}</strong></p>',
      ].join('\n'),
    ),
  },
  'second-step-blocked': {
    subject: '{{productName}}: two-step sign-in blocked after too many wrong codes',
    text: [
      'Hello {{name}},',
      '',
      'On {{changedAt}}, {{wrongCodes}} wrong codes within 30 days had been typed at the second step of signing in to your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}}, each after the right password. Two-step sign-in is now blocked: nobody can sign in, not even with a right code or a recovery code, and every sign-in waiting for a code was ended.',
      '{{#link}}To sign in again, reset your password ({{link}}): whoever typed those codes knows the current one. A new password lifts the block; your authenticator app and recovery codes stay as they are.{{/link}}{{^link}}To sign in again, ask an administrator of your account to reset your password (or your two-step sign-in): whoever typed those codes knows the current password.{{/link}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>On {{changedAt}}, {{wrongCodes}} wrong codes within 30 days had been typed at the second step of signing in to your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}}, each after the right password. Two-step sign-in is now blocked: nobody can sign in, not even with a right code or a recovery code, and every sign-in waiting for a code was ended.</p>',
        '<p><strong>{{#link}}To sign in again, <a href="{{link}}">reset your password</a>: whoever typed those codes knows the current one. A new password lifts the block; your authenticator app and recovery codes stay as they are.{{/link}}{{^link}}To sign in again, ask an administrator of your account to reset your password (or your two-step sign-in): whoever typed those codes knows the current password.{{/link}}</strong></p>',
      ].join('\n'),
    ),
  },
  'recovery-code-used': {
    subject: '{{productName}}: a recovery code was used to sign in{{#fewLeft}}, renew your codes{{/fewLeft}}',
    text: [
      'Hello {{name}},',
      '',
      'On {{changedAt}}, someone signed in to your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} with its password and a recovery code instead of a code of the authenticator app, from the address {{ip}}{{#device}} ({{device}}){{/device}}. That code no longer works. Recovery codes left: {{codesLeft}}.{{#fewLeft}} Renew your recovery codes now (with your password and a code of your authenticator app): once they are used up, a lost phone would keep you out.{{/fewLeft}}',
      '{{^noneLeft}}If this was you because your phone is lost, set two-step sign-in up again: turn it off with your password and a recovery code, then set it up on the new phone (it gives you new recovery codes).{{/noneLeft}}{{#noneLeft}}If this was you because your phone is lost: no recovery code is left to turn two-step sign-in off with, so ask {{#subuser}}an administrator of your account{{/subuser}}{{^subuser}}the operator of {{productName}}{{/subuser}} to turn it off, then set it up on the new phone (it gives you new recovery codes).{{/noneLeft}}',
      '{{#link}}If it was not you, someone knows your password and has one of your recovery codes: reset your password at once ({{link}}), which ends every session, theirs too; then renew your recovery codes, which they may have too.{{/link}}{{^link}}If it was not you, someone knows your password and has one of your recovery codes: tell an administrator of your account at once (they can reset your password, which ends every session); then renew your recovery codes, which they may have too.{{/link}}',
      '',
    ].join('\n'),
    html: layout(
      'en',
      [
        '<p>Hello {{name}},</p>',
        '<p>On {{changedAt}}, someone signed in to your {{productName}} {{#subuser}}login{{/subuser}}{{^subuser}}profile{{/subuser}} with its password and a recovery code instead of a code of the authenticator app, from the address {{ip}}{{#device}} ({{device}}){{/device}}. That code no longer works. Recovery codes left: {{codesLeft}}.</p>',
        '{{#fewLeft}}<p><strong>Renew your recovery codes now (with your password and a code of your authenticator app): once they are used up, a lost phone would keep you out.</strong></p>{{/fewLeft}}',
        '<p>{{^noneLeft}}If this was you because your phone is lost, set two-step sign-in up again: turn it off with your password and a recovery code, then set it up on the new phone (it gives you new recovery codes).{{/noneLeft}}{{#noneLeft}}If this was you because your phone is lost: no recovery code is left to turn two-step sign-in off with, so ask {{#subuser}}an administrator of your account{{/subuser}}{{^subuser}}the operator of {{productName}}{{/subuser}} to turn it off, then set it up on the new phone (it gives you new recovery codes).{{/noneLeft}}</p>',
        '<p><strong>{{#link}}If it was not you, someone knows your password and has one of your recovery codes: <a href="{{link}}">reset your password at once</a>, which ends every session, theirs too; then renew your recovery codes, which they may have too.{{/link}}{{^link}}If it was not you, someone knows your password and has one of your recovery codes: tell an administrator of your account at once (they can reset your password, which ends every session); then renew your recovery codes, which they may have too.{{/link}}</strong></p>',
      ].join('\n'),
    ),
  },
};

const fr: Record<MailTemplate, TemplateSource> = {
  activation: {
    subject: '{{productName}} : {{#hasLogin}}rejoignez {{accountName}}{{/hasLogin}}{{^hasLogin}}activez votre accès à {{accountName}}{{/hasLogin}}',
    text: [
      'Bonjour {{name}},',
      '',
      '{{#hasLogin}}Vous êtes invité·e à rejoindre {{accountName}} sur {{productName}}.',
      "Acceptez l'invitation pour y travailler avec votre identifiant actuel (votre mot de passe ne change pas) :{{/hasLogin}}{{^hasLogin}}Vous avez reçu un accès à {{accountName}} sur {{productName}}.",
      'Choisissez votre mot de passe pour activer votre profil :{{/hasLogin}}',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.",
      "Si vous n'attendiez pas ce message, vous pouvez l'ignorer.",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        "{{#hasLogin}}<p>Vous êtes invité·e à rejoindre <strong>{{accountName}}</strong> sur {{productName}}. Acceptez l'invitation pour y travailler avec votre identifiant actuel (votre mot de passe ne change pas).</p>",
        `${button("Accepter l'invitation")}{{/hasLogin}}{{^hasLogin}}<p>Vous avez reçu un accès à <strong>{{accountName}}</strong> sur {{productName}}. Choisissez votre mot de passe pour activer votre profil.</p>`,
        `${button('Choisir mon mot de passe')}{{/hasLogin}}`,
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.</p>",
        '<p style="font-size:13px;color:#57606a">Si vous n\'attendiez pas ce message, vous pouvez l\'ignorer.</p>',
      ].join('\n'),
    ),
  },
  'added-to-account': {
    subject: '{{productName}} : vous avez désormais accès à {{accountName}}',
    text: [
      'Bonjour {{name}},',
      '',
      'Vous avez été ajouté·e à {{accountName}} sur {{productName}}.',
      'Connectez-vous avec votre adresse e-mail et votre mot de passe habituels pour le retrouver parmi vos comptes :',
      '',
      '{{link}}',
      '',
      "Si vous n'attendiez pas ce message, contactez les administrateurs de {{accountName}}.",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>Vous avez été ajouté·e à <strong>{{accountName}}</strong> sur {{productName}}. Connectez-vous avec votre adresse e-mail et votre mot de passe habituels pour le retrouver parmi vos comptes.</p>',
        button('Me connecter'),
        copyLink.fr,
        '<p style="font-size:13px;color:#57606a">Si vous n\'attendiez pas ce message, contactez les administrateurs de {{accountName}}.</p>',
      ].join('\n'),
    ),
  },
  'subuser-activation': {
    subject: "{{productName}} : choisissez le mot de passe de l'identifiant {{login}} chez {{accountName}}",
    text: [
      'Bonjour,',
      '',
      "L'identifiant « {{login}} » a été créé pour vous dans {{accountName}} sur {{productName}}.",
      'Choisissez son mot de passe ici :',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.",
      'Ensuite, connectez-vous sur la page de connexion de {{accountName}} : {{loginPage}}',
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour,</p>',
        "<p>L'identifiant <strong>{{login}}</strong> a été créé pour vous dans <strong>{{accountName}}</strong> sur {{productName}}. Choisissez son mot de passe pour commencer à l'utiliser.</p>",
        button('Choisir le mot de passe'),
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.</p>",
        '<p>Ensuite, connectez-vous sur la page de connexion de {{accountName}} : <a href="{{loginPage}}">{{loginPage}}</a></p>',
      ].join('\n'),
    ),
  },
  'password-reset': {
    subject: '{{productName}} : réinitialisez votre mot de passe',
    text: [
      'Bonjour {{name}},',
      '',
      "{{#byAdmin}}Un administrateur de votre compte a demandé la réinitialisation de votre mot de passe sur {{productName}}.{{/byAdmin}}{{^byAdmin}}Quelqu'un (vous, espérons-le) a demandé à réinitialiser votre mot de passe sur {{productName}}.{{/byAdmin}}",
      'Choisissez un nouveau mot de passe ici :',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.",
      "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        "<p>{{#byAdmin}}Un administrateur de votre compte a demandé la réinitialisation de votre mot de passe sur {{productName}}.{{/byAdmin}}{{^byAdmin}}Quelqu'un (vous, espérons-le) a demandé à réinitialiser votre mot de passe sur {{productName}}.{{/byAdmin}}</p>",
        button('Choisir un nouveau mot de passe'),
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.</p>",
        '<p style="font-size:13px;color:#57606a">Si vous n\'êtes pas à l\'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.</p>',
      ].join('\n'),
    ),
  },
  'subuser-password-reset': {
    subject: '{{productName}} : réinitialisez le mot de passe de {{login}}',
    text: [
      'Bonjour,',
      '',
      "{{#byAdmin}}Un administrateur a demandé un nouveau mot de passe pour votre identifiant « {{login}} » ({{accountSlug}}) sur {{productName}}.{{/byAdmin}}{{^byAdmin}}Quelqu'un (vous, espérons-le) a demandé à réinitialiser le mot de passe de votre identifiant « {{login}} » ({{accountSlug}}) sur {{productName}}.{{/byAdmin}}",
      'Choisissez un nouveau mot de passe ici :',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.",
      "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour,</p>',
        "<p>{{#byAdmin}}Un administrateur a demandé un nouveau mot de passe pour votre identifiant <strong>{{login}}</strong> ({{accountSlug}}) sur {{productName}}.{{/byAdmin}}{{^byAdmin}}Quelqu'un (vous, espérons-le) a demandé à réinitialiser le mot de passe de votre identifiant <strong>{{login}}</strong> ({{accountSlug}}) sur {{productName}}.{{/byAdmin}}</p>",
        button('Choisir un nouveau mot de passe'),
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.</p>",
        '<p style="font-size:13px;color:#57606a">Si vous n\'êtes pas à l\'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.</p>',
      ].join('\n'),
    ),
  },
  'password-changed': {
    subject: '{{productName}} : votre mot de passe a été modifié',
    text: [
      'Bonjour {{name}},',
      '',
      'Le mot de passe de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} a été modifié le {{changedAt}}.',
      "Si c'est vous, vous n'avez rien d'autre à faire.",
      '{{#link}}Sinon, réinitialisez-le immédiatement : {{link}}{{/link}}{{^link}}Sinon, demandez immédiatement à un administrateur de votre compte de le réinitialiser.{{/link}}',
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>Le mot de passe de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} a été modifié le {{changedAt}}.</p>',
        "<p>Si c'est vous, vous n'avez rien d'autre à faire.</p>",
        '<p><strong>{{#link}}Sinon, <a href="{{link}}">réinitialisez-le immédiatement</a>.{{/link}}{{^link}}Sinon, demandez immédiatement à un administrateur de votre compte de le réinitialiser.{{/link}}</strong></p>',
      ].join('\n'),
    ),
  },
  'ownership-received': {
    subject: '{{productName}} : vous êtes désormais propriétaire de {{accountName}}',
    text: [
      'Bonjour {{name}},',
      '',
      '{{previousOwnerName}} ({{previousOwnerEmail}}) vous a transmis le compte {{accountName}} sur {{productName}} le {{handedOverAt}}.',
      "Vous en êtes désormais propriétaire : vous y détenez toutes les permissions, et vous seul·e pouvez le transmettre à quelqu'un d'autre.",
      '',
      '{{link}}',
      '',
      "Si vous n'attendiez pas ce message, contactez {{previousOwnerName}} ({{previousOwnerEmail}}).",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>{{previousOwnerName}} ({{previousOwnerEmail}}) vous a transmis le compte <strong>{{accountName}}</strong> sur {{productName}} le {{handedOverAt}}.</p>',
        "<p>Vous en êtes désormais propriétaire : vous y détenez toutes les permissions, et vous seul·e pouvez le transmettre à quelqu'un d'autre.</p>",
        button('Me connecter'),
        copyLink.fr,
        '<p style="font-size:13px;color:#57606a">Si vous n\'attendiez pas ce message, contactez {{previousOwnerName}} ({{previousOwnerEmail}}).</p>',
      ].join('\n'),
    ),
  },
  'ownership-handed-over': {
    subject: '{{productName}} : vous avez transmis {{accountName}} à {{newOwnerName}}',
    text: [
      'Bonjour {{name}},',
      '',
      'Le {{handedOverAt}}, vous avez transmis le compte {{accountName}} sur {{productName}} à {{newOwnerName}} ({{newOwnerEmail}}).',
      '{{newOwnerName}} en est désormais propriétaire ; vous en restez membre.{{#roleName}} Le rôle choisi pour vous lors de la transmission était {{roleName}}.{{/roleName}}',
      "Si c'est vous, vous n'avez rien d'autre à faire.",
      'Sinon, réinitialisez immédiatement votre mot de passe : {{link}}',
      'Demandez ensuite à {{newOwnerName}} de vous rendre le compte.',
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>Le {{handedOverAt}}, vous avez transmis le compte <strong>{{accountName}}</strong> sur {{productName}} à {{newOwnerName}} ({{newOwnerEmail}}).</p>',
        '<p>{{newOwnerName}} en est désormais propriétaire ; vous en restez membre.{{#roleName}} Le rôle choisi pour vous lors de la transmission était <strong>{{roleName}}</strong>.{{/roleName}}</p>',
        "<p>Si c'est vous, vous n'avez rien d'autre à faire.</p>",
        '<p><strong>Sinon, <a href="{{link}}">réinitialisez immédiatement votre mot de passe</a> et demandez à {{newOwnerName}} de vous rendre le compte.</strong></p>',
      ].join('\n'),
    ),
  },
  'email-change-confirm': {
    subject: '{{productName}} : confirmez votre nouvelle adresse de connexion',
    text: [
      'Bonjour {{name}},',
      '',
      'Vous avez demandé à vous connecter à {{productName}} avec {{email}} au lieu de {{previousEmail}}.',
      'Confirmez que cette adresse est la vôtre :',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}. D'ici là, vous vous connectez toujours avec {{previousEmail}}.",
      "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne change.",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>Vous avez demandé à vous connecter à {{productName}} avec <strong>{{email}}</strong> au lieu de {{previousEmail}}. Confirmez que cette adresse est la vôtre.</p>',
        button('Confirmer cette adresse'),
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}. D'ici là, vous vous connectez toujours avec {{previousEmail}}.</p>",
        '<p style="font-size:13px;color:#57606a">Si vous n\'êtes pas à l\'origine de cette demande, ignorez ce message : rien ne change.</p>',
      ].join('\n'),
    ),
  },
  'email-change-in-use': {
    subject: '{{productName}} : cette adresse a déjà un identifiant',
    text: [
      'Bonjour,',
      '',
      "Quelqu'un a demandé à déplacer son identifiant {{productName}} vers {{email}}, mais cette adresse sert déjà à se connecter à {{productName}}. Rien n'a été modifié.",
      "Si c'est vous, connectez-vous avec cette adresse comme d'habitude : {{link}}",
      'Sinon, ignorez ce message.',
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour,</p>',
        "<p>Quelqu'un a demandé à déplacer son identifiant {{productName}} vers <strong>{{email}}</strong>, mais cette adresse sert déjà à se connecter à {{productName}}. Rien n'a été modifié.</p>",
        '<p>Si c\'est vous, <a href="{{link}}">connectez-vous avec cette adresse</a> comme d\'habitude.</p>',
        '<p style="font-size:13px;color:#57606a">Sinon, ignorez ce message.</p>',
      ].join('\n'),
    ),
  },
  'email-changed': {
    subject: '{{productName}} : votre adresse de connexion a été modifiée',
    text: [
      'Bonjour {{name}},',
      '',
      'Le {{changedAt}}, votre identifiant {{productName}} est passé de {{email}} à {{newEmail}}. Vous vous connectez désormais, et recevez les réinitialisations de mot de passe, à {{newEmail}}.',
      "Si c'est vous, vous n'avez rien d'autre à faire.",
      '{{#link}}Sinon, ramenez-le ici immédiatement : toutes les sessions sont fermées, et vous choisissez un nouveau mot de passe depuis un message envoyé ici.',
      '',
      '{{link}}',
      '',
      "Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.{{/link}}{{^link}}Sinon, prévenez immédiatement un administrateur de votre compte : il peut fermer les sessions de cet identifiant.{{/link}}",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        '<p>Le {{changedAt}}, votre identifiant {{productName}} est passé de {{email}} à <strong>{{newEmail}}</strong>. Vous vous connectez désormais, et recevez les réinitialisations de mot de passe, à {{newEmail}}.</p>',
        "<p>Si c'est vous, vous n'avez rien d'autre à faire.</p>",
        '{{#link}}<p><strong>Sinon, ramenez-le ici immédiatement :</strong> toutes les sessions sont fermées, et vous choisissez un nouveau mot de passe depuis un message envoyé ici.</p>',
        button("Ce n'était pas moi : le ramener ici"),
        copyLink.fr,
        "<p>Ce lien ne fonctionne qu'une fois et expire le {{expiresAt}}.</p>{{/link}}{{^link}}<p><strong>Sinon, prévenez immédiatement un administrateur de votre compte : il peut fermer les sessions de cet identifiant.</strong></p>{{/link}}",
      ].join('\n'),
    ),
  },
  'subuser-email-changed': {
    subject: "{{productName}} : l'adresse de votre identifiant {{login}} a été modifiée",
    text: [
      'Bonjour,',
      '',
      "{{#newEmail}}Le {{changedAt}}, un administrateur de {{accountName}} a remplacé l'adresse de votre identifiant « {{login}} » sur {{productName}}, {{email}}, par {{newEmail}}. Les réinitialisations de mot de passe y sont désormais envoyées.{{/newEmail}}{{^newEmail}}Le {{changedAt}}, un administrateur de {{accountName}} a retiré l'adresse {{email}} de votre identifiant « {{login}} » sur {{productName}}. Les réinitialisations de mot de passe ne sont plus envoyées par e-mail.{{/newEmail}}",
      'Les liens envoyés ici auparavant ne fonctionnent plus.',
      'Si vous ne vous y attendiez pas, contactez les administrateurs de {{accountName}}.',
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour,</p>',
        "<p>{{#newEmail}}Le {{changedAt}}, un administrateur de <strong>{{accountName}}</strong> a remplacé l'adresse de votre identifiant <strong>{{login}}</strong> sur {{productName}}, {{email}}, par <strong>{{newEmail}}</strong>. Les réinitialisations de mot de passe y sont désormais envoyées.{{/newEmail}}{{^newEmail}}Le {{changedAt}}, un administrateur de <strong>{{accountName}}</strong> a retiré l'adresse {{email}} de votre identifiant <strong>{{login}}</strong> sur {{productName}}. Les réinitialisations de mot de passe ne sont plus envoyées par e-mail.{{/newEmail}}</p>",
        '<p>Les liens envoyés ici auparavant ne fonctionnent plus.</p>',
        '<p style="font-size:13px;color:#57606a">Si vous ne vous y attendiez pas, contactez les administrateurs de {{accountName}}.</p>',
      ].join('\n'),
    ),
  },
  'second-step-changed': {
    subject:
      '{{productName}} : {{#enabled}}la connexion en deux étapes a été activée{{/enabled}}{{#disabled}}la connexion en deux étapes a été désactivée{{/disabled}}{{#renewed}}vos codes de secours ont été remplacés{{/renewed}}{{#byAdmin}}un administrateur a désactivé votre connexion en deux étapes{{/byAdmin}}{{#byOperator}}le support a désactivé votre connexion en deux étapes{{/byOperator}}',
    text: [
      'Bonjour {{name}},',
      '',
      "{{#enabled}}La connexion en deux étapes a été activée pour votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} le {{changedAt}} : la connexion demande désormais, après le mot de passe, un code d'une application d'authentification, et toutes les autres sessions ont été fermées.{{/enabled}}{{#disabled}}La connexion en deux étapes a été désactivée pour votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} le {{changedAt}} : la connexion ne demande plus que le mot de passe.{{/disabled}}{{#renewed}}Les codes de secours de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} ont été remplacés le {{changedAt}} : les anciens ne fonctionnent plus.{{/renewed}}{{#byAdmin}}Un administrateur de votre compte a désactivé la connexion en deux étapes de votre identifiant {{productName}} le {{changedAt}} : il se connecte avec son seul mot de passe jusqu'à ce que vous la réactiviez.{{/byAdmin}}{{#byOperator}}Le support de {{productName}} a désactivé la connexion en deux étapes de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} le {{changedAt}} : la connexion ne demande plus que le mot de passe jusqu'à ce que vous la réactiviez.{{/byOperator}}",
      "{{^byAdmin}}{{^byOperator}}Si c'est vous, vous n'avez rien d'autre à faire.{{/byOperator}}{{/byAdmin}}",
      "{{#enabled}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et a configuré sa propre application d'authentification : réinitialisez immédiatement votre mot de passe ({{link}}) et demandez au support de {{productName}} de la retirer (un nouveau mot de passe ne suffit pas).{{/link}}{{^link}}Sinon, demandez immédiatement à un administrateur de votre compte de la désactiver et de réinitialiser votre mot de passe.{{/link}}{{/enabled}}{{#disabled}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et l'un de vos codes : réinitialisez immédiatement votre mot de passe ({{link}}), puis réactivez la connexion en deux étapes.{{/link}}{{^link}}Sinon, prévenez immédiatement un administrateur de votre compte.{{/link}}{{/disabled}}{{#renewed}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et l'un de vos codes : réinitialisez immédiatement votre mot de passe ({{link}}), puis remplacez vos codes de secours.{{/link}}{{^link}}Sinon, prévenez immédiatement un administrateur de votre compte.{{/link}}{{/renewed}}{{#byAdmin}}Si vous ne l'avez pas demandé, prévenez les administrateurs de votre compte.{{/byAdmin}}{{#byOperator}}{{#link}}Si vous ne l'avez pas demandé, réinitialisez immédiatement votre mot de passe ({{link}}) et prévenez le support de {{productName}}.{{/link}}{{^link}}Si vous ne l'avez pas demandé, prévenez immédiatement un administrateur de votre compte et le support de {{productName}}.{{/link}}{{/byOperator}}",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        "<p>{{#enabled}}La connexion en deux étapes a été activée pour votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} le {{changedAt}} : la connexion demande désormais, après le mot de passe, un code d'une application d'authentification, et toutes les autres sessions ont été fermées.{{/enabled}}{{#disabled}}La connexion en deux étapes a été désactivée pour votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} le {{changedAt}} : la connexion ne demande plus que le mot de passe.{{/disabled}}{{#renewed}}Les codes de secours de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} ont été remplacés le {{changedAt}} : les anciens ne fonctionnent plus.{{/renewed}}{{#byAdmin}}Un administrateur de votre compte a désactivé la connexion en deux étapes de votre identifiant {{productName}} le {{changedAt}} : il se connecte avec son seul mot de passe jusqu'à ce que vous la réactiviez.{{/byAdmin}}{{#byOperator}}Le support de {{productName}} a désactivé la connexion en deux étapes de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} le {{changedAt}} : la connexion ne demande plus que le mot de passe jusqu'à ce que vous la réactiviez.{{/byOperator}}</p>",
        "{{^byAdmin}}{{^byOperator}}<p>Si c'est vous, vous n'avez rien d'autre à faire.</p>{{/byOperator}}{{/byAdmin}}",
        "<p><strong>{{#enabled}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et a configuré sa propre application d'authentification : <a href=\"{{link}}\">réinitialisez immédiatement votre mot de passe</a> et demandez au support de {{productName}} de la retirer (un nouveau mot de passe ne suffit pas).{{/link}}{{^link}}Sinon, demandez immédiatement à un administrateur de votre compte de la désactiver et de réinitialiser votre mot de passe.{{/link}}{{/enabled}}{{#disabled}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et l'un de vos codes : <a href=\"{{link}}\">réinitialisez immédiatement votre mot de passe</a>, puis réactivez la connexion en deux étapes.{{/link}}{{^link}}Sinon, prévenez immédiatement un administrateur de votre compte.{{/link}}{{/disabled}}{{#renewed}}{{#link}}Sinon, quelqu'un connaît votre mot de passe et l'un de vos codes : <a href=\"{{link}}\">réinitialisez immédiatement votre mot de passe</a>, puis remplacez vos codes de secours.{{/link}}{{^link}}Sinon, prévenez immédiatement un administrateur de votre compte.{{/link}}{{/renewed}}{{#byAdmin}}Si vous ne l'avez pas demandé, prévenez les administrateurs de votre compte.{{/byAdmin}}{{#byOperator}}{{#link}}Si vous ne l'avez pas demandé, <a href=\"{{link}}\">réinitialisez immédiatement votre mot de passe</a> et prévenez le support de {{productName}}.{{/link}}{{^link}}Si vous ne l'avez pas demandé, prévenez immédiatement un administrateur de votre compte et le support de {{productName}}.{{/link}}{{/byOperator}}</strong></p>",
      ].join('\n'),
    ),
  },
  'second-step-blocked': {
    subject: '{{productName}} : connexion en deux étapes bloquée après trop de codes erronés',
    text: [
      'Bonjour {{name}},',
      '',
      "Le {{changedAt}}, {{wrongCodes}} codes erronés avaient été saisis en 30 jours à la deuxième étape de connexion de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}}, chacun après le bon mot de passe. La connexion en deux étapes est désormais bloquée : personne ne peut se connecter, même avec un bon code ou un code de secours, et toutes les connexions en attente d'un code ont été annulées.",
      "{{#link}}Pour vous connecter à nouveau, réinitialisez votre mot de passe ({{link}}) : la personne qui a saisi ces codes connaît l'actuel. Un nouveau mot de passe lève le blocage ; votre application d'authentification et vos codes de secours restent inchangés.{{/link}}{{^link}}Pour vous connecter à nouveau, demandez à un administrateur de votre compte de réinitialiser votre mot de passe (ou votre connexion en deux étapes) : la personne qui a saisi ces codes connaît le mot de passe actuel.{{/link}}",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        "<p>Le {{changedAt}}, {{wrongCodes}} codes erronés avaient été saisis en 30 jours à la deuxième étape de connexion de votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}}, chacun après le bon mot de passe. La connexion en deux étapes est désormais bloquée : personne ne peut se connecter, même avec un bon code ou un code de secours, et toutes les connexions en attente d'un code ont été annulées.</p>",
        '<p><strong>{{#link}}Pour vous connecter à nouveau, <a href="{{link}}">réinitialisez votre mot de passe</a> : la personne qui a saisi ces codes connaît l\'actuel. Un nouveau mot de passe lève le blocage ; votre application d\'authentification et vos codes de secours restent inchangés.{{/link}}{{^link}}Pour vous connecter à nouveau, demandez à un administrateur de votre compte de réinitialiser votre mot de passe (ou votre connexion en deux étapes) : la personne qui a saisi ces codes connaît le mot de passe actuel.{{/link}}</strong></p>',
      ].join('\n'),
    ),
  },
  'recovery-code-used': {
    subject: '{{productName}} : un code de secours a servi à vous connecter{{#fewLeft}}, renouvelez vos codes{{/fewLeft}}',
    text: [
      'Bonjour {{name}},',
      '',
      "Le {{changedAt}}, quelqu'un s'est connecté à votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} avec son mot de passe et un code de secours au lieu d'un code de l'application d'authentification, depuis l'adresse {{ip}}{{#device}} ({{device}}){{/device}}. Ce code ne fonctionne plus. Codes de secours restants : {{codesLeft}}.{{#fewLeft}} Renouvelez dès maintenant vos codes de secours (avec votre mot de passe et un code de votre application d'authentification) : une fois épuisés, la perte de votre téléphone vous empêcherait de vous connecter.{{/fewLeft}}",
      "{{^noneLeft}}Si c'était vous parce que votre téléphone est perdu, configurez à nouveau la connexion en deux étapes : désactivez-la avec votre mot de passe et un code de secours, puis activez-la sur le nouveau téléphone (vous recevrez de nouveaux codes de secours).{{/noneLeft}}{{#noneLeft}}Si c'était vous parce que votre téléphone est perdu : il ne reste aucun code de secours pour désactiver la connexion en deux étapes ; demandez {{#subuser}}à un administrateur de votre compte{{/subuser}}{{^subuser}}à l'exploitant de {{productName}}{{/subuser}} de la désactiver, puis activez-la sur le nouveau téléphone (vous recevrez de nouveaux codes de secours).{{/noneLeft}}",
      "{{#link}}Sinon, quelqu'un connaît votre mot de passe et possède l'un de vos codes de secours : réinitialisez immédiatement votre mot de passe ({{link}}), ce qui ferme toutes les sessions, la sienne aussi ; puis renouvelez vos codes de secours, qu'il possède peut-être aussi.{{/link}}{{^link}}Sinon, quelqu'un connaît votre mot de passe et possède l'un de vos codes de secours : prévenez immédiatement un administrateur de votre compte (il peut réinitialiser votre mot de passe, ce qui ferme toutes les sessions) ; puis renouvelez vos codes de secours, qu'il possède peut-être aussi.{{/link}}",
      '',
    ].join('\n'),
    html: layout(
      'fr',
      [
        '<p>Bonjour {{name}},</p>',
        "<p>Le {{changedAt}}, quelqu'un s'est connecté à votre {{#subuser}}identifiant{{/subuser}}{{^subuser}}profil{{/subuser}} {{productName}} avec son mot de passe et un code de secours au lieu d'un code de l'application d'authentification, depuis l'adresse {{ip}}{{#device}} ({{device}}){{/device}}. Ce code ne fonctionne plus. Codes de secours restants : {{codesLeft}}.</p>",
        "{{#fewLeft}}<p><strong>Renouvelez dès maintenant vos codes de secours (avec votre mot de passe et un code de votre application d'authentification) : une fois épuisés, la perte de votre téléphone vous empêcherait de vous connecter.</strong></p>{{/fewLeft}}",
        "<p>{{^noneLeft}}Si c'était vous parce que votre téléphone est perdu, configurez à nouveau la connexion en deux étapes : désactivez-la avec votre mot de passe et un code de secours, puis activez-la sur le nouveau téléphone (vous recevrez de nouveaux codes de secours).{{/noneLeft}}{{#noneLeft}}Si c'était vous parce que votre téléphone est perdu : il ne reste aucun code de secours pour désactiver la connexion en deux étapes ; demandez {{#subuser}}à un administrateur de votre compte{{/subuser}}{{^subuser}}à l'exploitant de {{productName}}{{/subuser}} de la désactiver, puis activez-la sur le nouveau téléphone (vous recevrez de nouveaux codes de secours).{{/noneLeft}}</p>",
        "<p><strong>{{#link}}Sinon, quelqu'un connaît votre mot de passe et possède l'un de vos codes de secours : <a href=\"{{link}}\">réinitialisez immédiatement votre mot de passe</a>, ce qui ferme toutes les sessions, la sienne aussi ; puis renouvelez vos codes de secours, qu'il possède peut-être aussi.{{/link}}{{^link}}Sinon, quelqu'un connaît votre mot de passe et possède l'un de vos codes de secours : prévenez immédiatement un administrateur de votre compte (il peut réinitialiser votre mot de passe, ce qui ferme toutes les sessions) ; puis renouvelez vos codes de secours, qu'il possède peut-être aussi.{{/link}}</strong></p>",
      ].join('\n'),
    ),
  },
};

/** The texts shipped with Portico, by locale. */
export const BUILT_IN_TEMPLATES: Record<string, Record<MailTemplate, TemplateSource>> = { en, fr };
