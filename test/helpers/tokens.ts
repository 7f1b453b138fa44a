/** Our tests' token helpers: the public testing module's (lib/testing), under the names the tests use. */
import { generateRsaKey as generateKey, type TestKey } from "../../lib/testing/index.js";
import { pooledRsaKeyPair } from "./rsa-key-pool.js";

export {
  b64url,
  decodePayload as payloadOf,
  keycloakAccessClaims as accessClaims,
  mintAccessToken as accessToken,
  signJwt,
  TEST_AUDIENCE,
  type TestKey,
} from "../../lib/testing/index.js";

/** lib/testing's generateRsaKey, taking 2048-bit pairs from the run's pool while it lasts. */
export function generateRsaKey(options: Omit<Parameters<typeof generateKey>[0] & object, "keyPair"> = {}): TestKey {
  const keyPair = options.bits === undefined || options.bits === 2048 ? pooledRsaKeyPair() : undefined;
  return generateKey(keyPair === undefined ? options : { ...options, keyPair });
}
