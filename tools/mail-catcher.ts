import { MailCatcher } from '#libs/testing/mail-catcher.js';

/** The local mail catcher of `npm start`: SMTP on MAIL_CATCHER_SMTP_PORT, a page on MAIL_CATCHER_WEB_PORT. */
const catcher = new MailCatcher();
const smtpPort = await catcher.start(Number(process.env.MAIL_CATCHER_SMTP_PORT ?? 1025));
const webPort = await catcher.serveWeb(Number(process.env.MAIL_CATCHER_WEB_PORT ?? 8025));
process.stdout.write(`mail catcher: SMTP on 127.0.0.1:${smtpPort}, mails at http://127.0.0.1:${webPort}/\n`);
const stop = () => void catcher.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
