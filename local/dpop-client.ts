/**
 * A DPoP (RFC 9449) client key for the local tools: an ES256 pair made for one run, its RFC 7638
 * thumbprint (what a token bound to it carries as `cnf.jkt`), and a proof for one request, so that
 * `npm run doctor` can get a DPoP-bound token and call with it as a client does.
 */
import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";

export interface DpopClientKey {
  /** base64url(SHA-256) of the public key's required members: the `cnf.jkt` of tokens bound to it. */
  readonly thumbprint: string;
  /** A fresh proof for `method` and `url`; with `accessToken`, its hash as `ath` (for API calls). */
  proof(method: string, url: string, accessToken?: string): string;
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function createDpopClientKey(): DpopClientKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { crv, kty, x, y } = publicKey.export({ format: "jwk" });
  const jwk = { crv, kty, x, y };
  const header = base64url({ typ: "dpop+jwt", alg: "ES256", jwk });
  return {
    // RFC 7638: the required members in lexicographic order, no whitespace (as `jwk` is written above).
    thumbprint: createHash("sha256").update(JSON.stringify(jwk)).digest("base64url"),
    proof(method, url, accessToken) {
      const claims = {
        jti: randomUUID(),
        htm: method,
        htu: url,
        iat: Math.floor(Date.now() / 1000),
        ...(accessToken === undefined ? {} : { ath: createHash("sha256").update(accessToken).digest("base64url") }),
      };
      const input = `${header}.${base64url(claims)}`;
      return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
    },
  };
}
