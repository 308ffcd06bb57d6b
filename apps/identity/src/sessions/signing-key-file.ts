import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '#libs/platform/index.js';

/**
 * The private key of `JWT_PRIVATE_KEY_FILE`, or a ConfigError naming the variable: a file that
 * cannot be read, is no private key, or is not an EC key on P-256. Access tokens are ES256, which
 * the gateways verify and nothing else: a key of another type (Ed25519, P-384, RSA) would start,
 * publish a key set nobody can use, and answer every sign-in 500.
 */
export function readSigningKeyFile(file: string): KeyObject {
  const problem = (what: string) => new ConfigError([`JWT_PRIVATE_KEY_FILE: ${file} ${what}`]);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (error) {
    throw problem(`is not a readable private key in PEM: ${(error as Error).message}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw problem(
      `holds a ${key.asymmetricKeyType === 'ec' ? `${curve} EC` : (key.asymmetricKeyType ?? 'unknown')} key: access tokens are ES256, it must be an EC key on P-256 (openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt)`,
    );
  }
  return key;
}
