import { InitialNotifications1732300000000 } from './1732300000000-initial-notifications.js';

/** The notifications schema's migrations, oldest first. */
export const notificationsMigrations = [InitialNotifications1732300000000];
