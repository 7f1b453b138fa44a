/**
 * Keycloak-shaped RS256 access tokens, signed with keys generated in the run (nothing secret is
 * committed). Signing costs about 30 verifications, and every "distinct" token is used once, so
 * large batches are signed on worker threads.
 */
import { generateKeyPairSync, randomUUID, sign, createPrivateKey } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** What a realm publishes and signs with. Plain data: it crosses process boundaries. */
export interface RealmKey {
  readonly realm: string;
  readonly issuer: string;
  readonly kid: string;
  readonly privateKeyPem: string;
  /** The signing key as the certs endpoint publishes it. */
  readonly jwk: Readonly<Record<string, string>>;
  /** The whole certs document: the signing key and an RSA-OAEP encryption key, as Keycloak has. */
  readonly jwks: { readonly keys: readonly Readonly<Record<string, string>>[] };
}

/** A fresh key pair per realm, or `shareWith`'s keys under a new issuer (cheap: no key generation). */
export function createRealmKey(realm: string, issuer: string, shareWith?: RealmKey): RealmKey {
  if (shareWith !== undefined) return { ...shareWith, realm, issuer };
  const publicJwk = (use: "sig" | "enc") => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const { n, e } = publicKey.export({ format: "jwk" }) as { n: string; e: string };
    const kid = randomUUID().replaceAll("-", "").slice(0, 22);
    return { privateKey, jwk: { kid, kty: "RSA", alg: use === "sig" ? "RS256" : "RSA-OAEP", use, n, e } };
  };
  const sig = publicJwk("sig");
  const enc = publicJwk("enc");
  return {
    realm,
    issuer,
    kid: sig.jwk.kid,
    privateKeyPem: sig.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    jwk: sig.jwk,
    jwks: { keys: [sig.jwk, enc.jwk] },
  };
}

export const b64url = (value: unknown): string => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** A Keycloak 26 access token's claims for a user signed in through a public client; one fresh user, session and jti per call. */
export function keycloakClaims(issuer: string, audience: string, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    // An hour, not Keycloak's default five minutes: tokens are signed before a run of several minutes.
    exp: now + 3600,
    iat: now,
    auth_time: now - 5,
    jti: `onrtac:${randomUUID()}`,
    iss: issuer,
    aud: [audience, "account"],
    sub: randomUUID(),
    typ: "Bearer",
    azp: "api-client",
    sid: randomUUID(),
    acr: "1",
    "allowed-origins": ["http://localhost:3000"],
    realm_access: { roles: ["default-roles-bench", "offline_access", "uma_authorization", "user", "admin"] },
    resource_access: { [audience]: { roles: ["reader", "writer"] }, account: { roles: ["manage-account", "manage-account-links", "view-profile"] } },
    scope: "openid profile email",
    email_verified: true,
    name: "Alice Liddell",
    preferred_username: "alice",
    given_name: "Alice",
    family_name: "Liddell",
    email: "alice@example.com",
    ...overrides,
  };
}

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createPrivateKey, sign } = require("node:crypto");
const key = createPrivateKey(workerData.pem);
parentPort.postMessage(workerData.inputs.map((input) => sign("sha256", Buffer.from(input), key).toString("base64url")));
`;

/** Sign header.payload for each payload (RS256), on worker threads when there are many. */
export async function signJwts(
  key: Pick<RealmKey, "kid" | "privateKeyPem">,
  payloads: readonly Readonly<Record<string, unknown>>[],
  header: Readonly<Record<string, unknown>> = {},
): Promise<string[]> {
  const head = b64url({ alg: "RS256", typ: "JWT", kid: key.kid, ...header });
  const inputs = payloads.map((payload) => `${head}.${b64url(payload)}`);
  const workers = Math.max(1, Math.min(availableParallelism(), 4));
  if (inputs.length < 64 || workers === 1) {
    const privateKey = createPrivateKey(key.privateKeyPem);
    return inputs.map((input) => `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`);
  }
  const size = Math.ceil(inputs.length / workers);
  const chunks = Array.from({ length: workers }, (_, i) => inputs.slice(i * size, (i + 1) * size));
  const signatures = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<string[]>((resolve, reject) => {
          const worker = new Worker(WORKER, { eval: true, workerData: { pem: key.privateKeyPem, inputs: chunk } });
          worker.once("message", (result: string[]) => {
            resolve(result);
            void worker.terminate();
          });
          worker.once("error", reject);
        }),
    ),
  );
  return signatures.flat().map((signature, i) => `${inputs[i] as string}.${signature}`);
}

/** `count` distinct valid access tokens (claims overridable). */
export function validTokens(key: RealmKey, audience: string, count: number, overrides: Readonly<Record<string, unknown>> = {}): Promise<string[]> {
  return signJwts(
    key,
    Array.from({ length: count }, () => keycloakClaims(key.issuer, audience, overrides)),
  );
}
