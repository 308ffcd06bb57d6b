import { commonEnv, databaseEnv, integer, text, url, type ConfigOf } from '#libs/platform/index.js';

/** Every environment variable of the notifications service. */
export const notificationsEnv = {
  ...commonEnv,
  ...databaseEnv,
  HEALTH_PORT: integer('Port of the /health/live and /health/ready HTTP probe server (0: off)', 0, 65535, 3003),
  SMTP_URL: url('SMTP server, e.g. smtp://user:pass@mail:587 or smtps://mail:465', ['smtp', 'smtps'], 'smtp://127.0.0.1:1025'),
  MAIL_FROM: text('Sender of every mail', 'Portico <no-reply@portico.local>'),
  PUBLIC_WEB_URL: url('Base URL of the web panel; links in mails point under it', ['http', 'https'], 'http://localhost:5173'),
  PRODUCT_NAME: text('Product name shown in mails', 'Portico'),
};

/** The validated configuration of the notifications service. */
export type NotificationsConfig = ConfigOf<typeof notificationsEnv>;
