/**
 * The usual unit-test realm: one RSA key made for the run and a stub serving its discovery and
 * JWKS on loopback (test/helpers/idp-stub.ts), started before the enclosing describe's (or file's)
 * tests and closed after them. Read `key` and `idp` inside tests and hooks, not at declaration.
 */
import { afterAll, beforeAll } from "@jest/globals";
import { startIdpStub, type IdpStub } from "./idp-stub.js";
import { generateRsaKey, type TestKey } from "./tokens.js";

export interface StubRealm {
  readonly key: TestKey;
  readonly idp: IdpStub;
}

export function stubRealm(): StubRealm {
  const realm = {} as { key: TestKey; idp: IdpStub };
  beforeAll(async () => {
    realm.key = generateRsaKey();
    realm.idp = await startIdpStub([realm.key.jwk]);
  });
  afterAll(() => realm.idp.close());
  return realm;
}
