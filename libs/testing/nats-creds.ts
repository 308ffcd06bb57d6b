import { writeFileSync } from 'node:fs';
import { nkeys } from '@nats-io/transport-node';

/** A NATS user identified by an NKey, with a `.creds` file that a client can connect with. */
export interface TestNkeyUser {
  /** The public key (`U...`), for the server's `authorization { users: [{ nkey: ... }] }`. */
  publicKey: string;
  /** The path of the `.creds` file written for it. */
  credsFile: string;
}

/**
 * Makes an NKey user and writes its `.creds` file to `path`. Without an operator the server
 * checks only the NKey's signature of its nonce; the JWT block is a placeholder that has the
 * shape `nsc generate creds` writes, so the client reads the file exactly as in production.
 */
export function writeNkeyCreds(path: string): TestNkeyUser {
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.placeholder';
  writeFileSync(
    path,
    [
      '-----BEGIN NATS USER JWT-----',
      jwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      seed,
      '------END USER NKEY SEED------',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { publicKey: user.getPublicKey(), credsFile: path };
}
