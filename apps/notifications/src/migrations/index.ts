import { InitialNotifications1732300000000 } from './1732300000000-initial-notifications.js';
import { DeliveryStates1732400000000 } from './1732400000000-delivery-states.js';
import { CancelledLinks1733000000000 } from './1733000000000-cancelled-links.js';
import { MailsSharingAnEvent1733300000000 } from './1733300000000-mails-sharing-an-event.js';
import { DeliveryLogAge1734700000000 } from './1734700000000-delivery-log-age.js';
import { UnfinishedMailsByAge1734800000000 } from './1734800000000-unfinished-mails-by-age.js';
import { MailsWaitingForRoom1734900000000 } from './1734900000000-mails-waiting-for-room.js';
import { MailsDueAfterTheirWait1735300000000 } from './1735300000000-mails-due-after-their-wait.js';
import { MailsWaitingInOrder1735400000000 } from './1735400000000-mails-waiting-in-order.js';
import { WaitingMailsByCounter1735500000000 } from './1735500000000-waiting-mails-by-counter.js';
import { WaitingMailsLinks1735600000000 } from './1735600000000-waiting-mails-links.js';
import { WaitingMailsByLink1735700000000 } from './1735700000000-waiting-mails-by-link.js';

/** The notifications schema's migrations, oldest first. */
export const notificationsMigrations = [
  InitialNotifications1732300000000,
  DeliveryStates1732400000000,
  CancelledLinks1733000000000,
  MailsSharingAnEvent1733300000000,
  DeliveryLogAge1734700000000,
  UnfinishedMailsByAge1734800000000,
  MailsWaitingForRoom1734900000000,
  MailsDueAfterTheirWait1735300000000,
  MailsWaitingInOrder1735400000000,
  WaitingMailsByCounter1735500000000,
  WaitingMailsLinks1735600000000,
  WaitingMailsByLink1735700000000,
];
