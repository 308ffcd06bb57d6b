import { natsUsersConfigFile } from './nats/permissions.js';

// Prints the nats-server authorization block of deploy/nats/portico-users.conf: one user per service, least privilege.
process.stdout.write(natsUsersConfigFile());
