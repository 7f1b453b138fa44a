/** Our tests' token helpers: the public testing module's (lib/testing), under the names the tests use. */
export {
  b64url,
  decodePayload as payloadOf,
  generateRsaKey,
  keycloakAccessClaims as accessClaims,
  mintAccessToken as accessToken,
  signJwt,
  TEST_AUDIENCE,
  type TestKey,
} from "../../lib/testing/index.js";
