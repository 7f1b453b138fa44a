/**
 * Hostile DPoP proofs (RFC 9449), in the spirit of the token corpus (fuzz.test.ts): `alg` none or
 * HS*, keys with private parts or symmetric ones, `kty`/`alg` mismatches, oversized proofs and
 * headers, duplicate headers, proofs for other tokens, methods and URLs, clock edges, malformed
 * JWS of every kind, and fast-check mutations of a genuine proof. Every one is refused with its
 * own code, on REST REQUEST and HTTP API events, promptly and with nothing escaping; only a fresh
 * genuine proof is ever accepted.
 *
 * "Cheaply": every code but `dpop_proof_invalid_signature` is decided before any signature is
 * verified or any key material converted (lib/dpop/dpop-proof.ts checks in that order); the cost
 * against a valid request is a benchmark figure (`dpop.reject-proof/dpop`, docs/dpop.md), not a
 * timed assertion. Reproduce a failure with FUZZ_SEED=<seed> npm test -- hostile-proofs
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { API_ROUTES } from "../../functions/routes.js";
import { createAuthorizerHandler, type AuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { DPOP_ALGORITHMS } from "../../lib/config/dpop-settings.js";
import { MAX_PROOF_BYTES } from "../../lib/dpop/dpop-proof.js";
import { keyBindingCheck } from "../../lib/dpop/key-binding-check.js";
import { MemoryReplayCache } from "../../lib/dpop/replay-cache.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { accessTokenHash, dpopProof, generateDpopKey, jwsSignature, thumbprintOf, type DpopKey } from "../helpers/dpop.js";
import { requestEvent, requestUrl } from "../helpers/events.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { settleWithin, watchUnhandledRejections, type RejectionWatch } from "../helpers/run-bounds.js";
import { accessToken, b64url, generateRsaKey, type TestKey } from "../helpers/tokens.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0xd0_0f_2026);
/** A functional no-hang bound, not a benchmark (a proof check takes well under a millisecond). */
const BOUND_MS = 250;
const KINDS = ["rest-request", "http-v2"] as const;
type Kind = (typeof KINDS)[number];

let idp: IdpStub;
let realmKey: TestKey;
let handler: AuthorizerHandler;
const reasons: unknown[] = [];
let rejections: RejectionWatch;
let client: DpopKey;
let rsaClient: DpopKey;

beforeAll(async () => {
  realmKey = generateRsaKey();
  idp = await startIdpStub([realmKey.jwk]);
  const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
  await verifier.prefetch();
  handler = createAuthorizerHandler({
    verifier,
    routes: API_ROUTES,
    keyBinding: keyBindingCheck({
      mode: "allowed",
      algorithms: DPOP_ALGORITHMS,
      proofMaxAgeSeconds: 120,
      clockSkewSeconds: 30,
      replayStore: new MemoryReplayCache({ maxEntries: 100_000 }),
      routes: API_ROUTES,
      offline: false,
    }),
    observer: { allowed() {}, refused: ({ error }) => reasons.push(error.code), failed: ({ error }) => reasons.push(`FAILED ${error.code}`) },
  });
  client = generateDpopKey("ES256");
  rsaClient = generateDpopKey("RS256");
  rejections = watchUnhandledRejections();
});
afterAll(async () => {
  rejections?.stop();
  await idp?.close();
});

/** A token bound to `jkt` (Keycloak's DPoP shape). */
const boundTo = (jkt: string): string => accessToken(realmKey, idp.issuer, { claims: { typ: "DPoP", cnf: { jkt } } });

interface HostileRequest {
  /** The token (bound to the proof's key unless said otherwise). */
  readonly token: string;
  /** The DPoP header value(s): several are sent as repeated headers. */
  readonly proofs: readonly string[];
  readonly scheme?: "DPoP" | "Bearer";
}

/** One answer: the refusal code, or "allowed". Throws on anything but a typed refusal, or a slow answer. */
async function outcome(kind: Kind, request: HostileRequest): Promise<string> {
  reasons.length = 0;
  const [first, ...more] = request.proofs;
  const event = requestEvent(kind, {
    authorization: `${request.scheme ?? "DPoP"} ${request.token}`,
    headers: first === undefined ? {} : { DPoP: first },
    ...(more.length > 0 ? { repeated: { DPoP: request.proofs } } : {}),
  });
  const settled = await settleWithin(() => handler(event), BOUND_MS);
  if (settled.status === "timed-out" || settled.ms > BOUND_MS) throw new Error(`no answer within ${BOUND_MS} ms`);
  if (settled.status === "resolved") return "allowed";
  expect(settled.error).toEqual(new Error("Unauthorized"));
  expect(reasons).toHaveLength(1);
  return String(reasons[0]);
}

/** A proof signed with `key`, its header and claims overridable, for `kind`'s URL and `token`. */
const proofFor = (kind: Kind, token: string, key: DpopKey = client, options: Partial<Parameters<typeof dpopProof>[1]> = {}): string =>
  dpopProof(key, { htm: "GET", htu: requestUrl(kind), accessToken: token, ...options });

/** header.payload.signature with the parts given as they are (for JWS that no signer would make). */
const rawJws = (header: unknown, payload: unknown, signature = "c2ln"): string => `${b64url(header)}.${b64url(payload)}.${signature}`;

const now = (): number => Math.floor(Date.now() / 1000);
const claimsFor = (kind: Kind, token: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  jti: randomUUID(),
  htm: "GET",
  htu: requestUrl(kind),
  iat: now(),
  ath: accessTokenHash(token),
  ...extra,
});

type Case = readonly [name: string, make: (kind: Kind) => HostileRequest, code: string];

/** A proof whose header carries `jwk` and says `alg`, signed by `signer` as `alg` (HS* by a secret). */
function withKey(kind: Kind, jwk: Record<string, unknown>, alg: string, signer: DpopKey = client): HostileRequest {
  const token = boundTo(thumbprintOf(jwk as Record<string, string>));
  const input = `${b64url({ typ: "dpop+jwt", alg, jwk })}.${b64url(claimsFor(kind, token))}`;
  const signature = alg.startsWith("HS")
    ? createHmac(`sha${alg.slice(2)}`, "secret")
        .update(input)
        .digest()
    : jwsSignature(signer.alg, signer.privateKey, input);
  return { token, proofs: [`${input}.${signature.toString("base64url")}`] };
}

/** An Ed25519 key of small order, with the all-zero signature that such keys let through (no private key). */
function smallOrderKey(kind: Kind, xHex: string): HostileRequest {
  const jwk = { kty: "OKP", crv: "Ed25519", x: Buffer.from(xHex, "hex").toString("base64url") };
  const token = boundTo(thumbprintOf(jwk));
  const input = `${b64url({ typ: "dpop+jwt", alg: "EdDSA", jwk })}.${b64url(claimsFor(kind, token))}`;
  return { token, proofs: [`${input}.${Buffer.alloc(64).toString("base64url")}`] };
}

const ecPrivate = (): Record<string, string> =>
  generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }) as Record<string, string>;
const rsaPrivate = (): Record<string, string> =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }) as Record<string, string>;

const CASES: readonly Case[] = [
  // --- algorithms ---
  [
    "alg none, no signature",
    () => ({ token: boundTo(client.thumbprint), proofs: [`${b64url({ typ: "dpop+jwt", alg: "none", jwk: client.jwk })}.${b64url({})}.`] }),
    "dpop_proof_malformed",
  ],
  [
    "alg none, with a signature",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [rawJws({ typ: "dpop+jwt", alg: "none", jwk: client.jwk }, claimsFor(kind, token))] };
    },
    "dpop_proof_algorithm_not_allowed",
  ],
  ...(["NONE", "None", "HS256", "HS384", "HS512", "es256", "ES256K", "RSA-OAEP", ""].map((alg) => [
    `alg ${JSON.stringify(alg)}`,
    (kind: Kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { header: { alg }, signAs: "ES256" })] };
    },
    "dpop_proof_algorithm_not_allowed",
  ]) as Case[]),
  ["HS256 keyed with a secret, jwk an oct key", (kind) => withKey(kind, { kty: "oct", k: b64url("secret") }, "HS256"), "dpop_proof_algorithm_not_allowed"],
  [
    "no alg at all",
    (kind) => ({
      token: boundTo(client.thumbprint),
      proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { alg: undefined }, signAs: "ES256" })],
    }),
    "dpop_proof_algorithm_not_allowed",
  ],
  // --- keys ---
  ["a jwk with its private part (EC d)", (kind) => withKey(kind, ecPrivate(), "ES256"), "dpop_proof_key_invalid"],
  ["a jwk with its private parts (RSA d, p, q, dp, dq, qi)", (kind) => withKey(kind, rsaPrivate(), "RS256", rsaClient), "dpop_proof_key_invalid"],
  ["a symmetric jwk (oct) under ES256", (kind) => withKey(kind, { kty: "oct", k: b64url("secret") }, "ES256"), "dpop_proof_key_invalid"],
  ["an RSA jwk under ES256", (kind) => withKey(kind, rsaClient.jwk, "ES256"), "dpop_proof_key_invalid"],
  ["an EC jwk under RS256", (kind) => withKey(kind, client.jwk, "RS256", rsaClient), "dpop_proof_key_invalid"],
  ["an EC jwk under PS256", (kind) => withKey(kind, client.jwk, "PS256", rsaClient), "dpop_proof_key_invalid"],
  ["a P-256 jwk under ES384", (kind) => withKey(kind, client.jwk, "ES384"), "dpop_proof_key_invalid"],
  ["an EC jwk under EdDSA", (kind) => withKey(kind, client.jwk, "EdDSA"), "dpop_proof_key_invalid"],
  ["an Ed25519 jwk under ES256", (kind) => withKey(kind, generateDpopKey("EdDSA").jwk, "ES256"), "dpop_proof_key_invalid"],
  ["an Ed448 jwk under Ed25519 (RFC 9864 names one curve)", (kind) => withKey(kind, generateDpopKey("Ed448").jwk, "Ed25519"), "dpop_proof_key_invalid"],
  ["an Ed25519 jwk under Ed448", (kind) => withKey(kind, generateDpopKey("Ed25519").jwk, "Ed448"), "dpop_proof_key_invalid"],
  ["an Ed25519 jwk of small order (the identity) with a zero signature", (kind) => smallOrderKey(kind, `01${"00".repeat(31)}`), "dpop_proof_key_invalid"],
  ["an Ed25519 jwk of small order (x all zero) with a zero signature", (kind) => smallOrderKey(kind, "00".repeat(32)), "dpop_proof_key_invalid"],
  [
    "an Ed25519 jwk of order 8 with a zero signature",
    (kind) => smallOrderKey(kind, "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    "dpop_proof_key_invalid",
  ],
  ["a jwk labelled for another alg", (kind) => withKey(kind, { ...client.jwk, alg: "ES384" }, "ES256"), "dpop_proof_key_invalid"],
  ["a jwk for encryption (use enc)", (kind) => withKey(kind, { ...client.jwk, use: "enc" }, "ES256"), "dpop_proof_key_invalid"],
  ["a jwk for signing only (key_ops sign)", (kind) => withKey(kind, { ...client.jwk, key_ops: ["sign"] }, "ES256"), "dpop_proof_key_invalid"],
  ["a jwk whose x is not base64url", (kind) => withKey(kind, { ...client.jwk, x: "not base64!" }, "ES256"), "dpop_proof_key_invalid"],
  ["a jwk whose x is a number", (kind) => withKey(kind, { ...client.jwk, x: 42 }, "ES256"), "dpop_proof_key_invalid"],
  [
    "no jwk",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { jwk: undefined } })] }),
    "dpop_proof_key_invalid",
  ],
  [
    "a jwk that is a string",
    (kind) => ({
      token: boundTo(client.thumbprint),
      proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { jwk: JSON.stringify(client.jwk) } })],
    }),
    "dpop_proof_key_invalid",
  ],
  [
    "a jwk that is an array",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { jwk: [client.jwk] } })] }),
    "dpop_proof_key_invalid",
  ],
  [
    "an EC point that is not on the curve, bound by the token",
    (kind) => withKey(kind, { ...client.jwk, y: b64url(randomBytes(32)) }, "ES256"),
    "dpop_proof_key_invalid",
  ],
  [
    "an RSA key of 1024 bits, bound by the token",
    (kind) => withKey(kind, generateDpopKey("RS256", { rsaBits: 1024 }).jwk, "RS256", rsaClient),
    "dpop_proof_key_invalid",
  ],
  [
    "an RSA modulus of 9000 bits, bound by the token",
    (kind) => withKey(kind, { kty: "RSA", e: "AQAB", n: Buffer.concat([Buffer.from([0xff]), randomBytes(1124)]).toString("base64url") }, "RS256", rsaClient),
    "dpop_proof_key_invalid",
  ],
  ["an RSA exponent of 1, bound by the token", (kind) => withKey(kind, { ...rsaClient.jwk, e: "AQ" }, "RS256", rsaClient), "dpop_proof_key_invalid"],
  // --- type and form ---
  ...([undefined, "JWT", "at+jwt", "DPoP+JWT", "application/dpop+jwt", "dpop+jwt ", 1].map((typ) => [
    `typ ${JSON.stringify(typ)}`,
    (kind: Kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { typ } })] }),
    "dpop_proof_wrong_type",
  ]) as Case[]),
  ["the access token itself as the proof", () => ({ token: boundTo(client.thumbprint), proofs: [boundTo(client.thumbprint)] }), "dpop_proof_wrong_type"],
  [
    "a crit header",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint), client, { header: { crit: ["exp"], exp: 1 } })] }),
    "dpop_proof_malformed",
  ],
  ["two segments", () => ({ token: boundTo(client.thumbprint), proofs: [`${b64url({ typ: "dpop+jwt" })}.${b64url({})}`] }), "dpop_proof_malformed"],
  ["five segments (a JWE)", () => ({ token: boundTo(client.thumbprint), proofs: ["eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"] }), "dpop_proof_malformed"],
  ["a header that is not JSON", () => ({ token: boundTo(client.thumbprint), proofs: [`${b64url("not json")}.${b64url({})}.c2ln`] }), "dpop_proof_malformed"],
  ["a header that is an array", () => ({ token: boundTo(client.thumbprint), proofs: [`${b64url([1])}.${b64url({})}.c2ln`] }), "dpop_proof_malformed"],
  ["not base64url", () => ({ token: boundTo(client.thumbprint), proofs: ["a+b/c.d+e/f.g+h/i"] }), "dpop_proof_malformed"],
  ["padded segments", (kind) => ({ token: boundTo(client.thumbprint), proofs: [`${proofFor(kind, boundTo(client.thumbprint))}==`] }), "dpop_proof_malformed"],
  [
    "stray trailing bits in the signature",
    (kind) => {
      const token = boundTo(client.thumbprint);
      const proof = proofFor(kind, token);
      const last = proof.at(-1) as string;
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      return { token, proofs: [`${proof.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`] };
    },
    "dpop_proof_malformed",
  ],
  // --- size and headers ---
  [
    "a proof above the size cap",
    (kind) => ({
      token: boundTo(client.thumbprint),
      proofs: [proofFor(kind, boundTo(client.thumbprint), client, { claims: { pad: "x".repeat(MAX_PROOF_BYTES) } })],
    }),
    "dpop_proof_too_large",
  ],
  ["a 1 MiB DPoP header", () => ({ token: boundTo(client.thumbprint), proofs: ["a".repeat(1024 * 1024)] }), "dpop_proof_too_large"],
  [
    "a proof header of 7 KB under the size cap",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { header: { x: "y".repeat(5000) } })] };
    },
    "allowed",
  ],
  [
    "two DPoP headers, both genuine",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token), proofFor(kind, token)] };
    },
    "dpop_proof_duplicated",
  ],
  [
    "two proofs joined with a comma in one header",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [`${proofFor(kind, token)}, ${proofFor(kind, token)}`] };
    },
    "dpop_proof_duplicated",
  ],
  ["no DPoP header", () => ({ token: boundTo(client.thumbprint), proofs: [] }), "dpop_proof_missing"],
  [
    "a genuine proof with the token sent as Bearer",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint))], scheme: "Bearer" }),
    "dpop_token_as_bearer",
  ],
  // --- bound to something else ---
  [
    "a proof for another access token",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint))] }),
    "dpop_proof_token_mismatch",
  ],
  [
    "a proof for a token, ath in padded base64",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { ath: `${accessTokenHash(token)}=` } })] };
    },
    "dpop_proof_token_mismatch",
  ],
  [
    "a proof without ath",
    (kind) => ({ token: boundTo(client.thumbprint), proofs: [proofFor(kind, boundTo(client.thumbprint), client, { claims: { ath: undefined } })] }),
    "dpop_proof_missing_claim",
  ],
  [
    "a proof by another key than the token's",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, generateDpopKey())] };
    },
    "dpop_proof_key_mismatch",
  ],
  [
    "a proof by the token's key type but another key (RSA)",
    (kind) => {
      const token = boundTo(rsaClient.thumbprint);
      return { token, proofs: [proofFor(kind, token, generateDpopKey("RS256"))] };
    },
    "dpop_proof_key_mismatch",
  ],
  [
    "a proof whose header names the token's key, signed by another",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { signWith: generateDpopKey().privateKey })] };
    },
    "dpop_proof_invalid_signature",
  ],
  [
    "a proof signed under another alg than its header's (RS256 key as PS256)",
    (kind) => {
      const token = boundTo(rsaClient.thumbprint);
      return { token, proofs: [proofFor(kind, token, rsaClient, { header: { alg: "PS256" }, signAs: "RS256" })] };
    },
    "dpop_proof_invalid_signature",
  ],
  [
    "an ECDSA signature in DER",
    (kind) => {
      const token = boundTo(client.thumbprint);
      const input = proofFor(kind, token).split(".").slice(0, 2).join(".");
      const der = jwsSignature("ES256", client.privateKey, input);
      return {
        token,
        proofs: [
          `${input}.${Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), der.subarray(0, 32), Buffer.from([0x02, 0x20]), der.subarray(32)]).toString("base64url")}`,
        ],
      };
    },
    "dpop_proof_invalid_signature",
  ],
  [
    "a truncated signature",
    (kind) => {
      const token = boundTo(client.thumbprint);
      const [header, payload, signature] = proofFor(kind, token).split(".") as [string, string, string];
      return { token, proofs: [`${header}.${payload}.${Buffer.from(signature, "base64url").subarray(0, 60).toString("base64url")}`] };
    },
    "dpop_proof_invalid_signature",
  ],
  [
    "a proof for POST",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htm: "POST" })] };
    },
    "dpop_proof_method_mismatch",
  ],
  [
    "a proof for get (methods are case-sensitive)",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htm: "get" })] };
    },
    "dpop_proof_method_mismatch",
  ],
  [
    "a proof for another route",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htu: requestUrl(kind, { path: "/admin" }) })] };
    },
    "dpop_proof_url_mismatch",
  ],
  [
    "a proof for another API host",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htu: requestUrl(kind, { host: "evil.example.com" }) })] };
    },
    "dpop_proof_url_mismatch",
  ],
  [
    "a proof for the other API kind's URL (stage prefix)",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htu: requestUrl(kind === "http-v2" ? "rest-request" : "http-v2") })] };
    },
    "dpop_proof_url_mismatch",
  ],
  [
    "an htu with user info",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htu: requestUrl(kind).replace("https://", "https://user@") })] };
    },
    "dpop_proof_url_mismatch",
  ],
  [
    "an htu that is no URL",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { htu: "secured" })] };
    },
    "dpop_proof_url_mismatch",
  ],
  // --- claims ---
  ...(["jti", "htm", "htu", "iat"].map((claim) => [
    `a proof without ${claim}`,
    (kind: Kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { [claim]: undefined } })] };
    },
    "dpop_proof_missing_claim",
  ]) as Case[]),
  [
    "an empty jti",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { jti: "" })] };
    },
    "dpop_proof_missing_claim",
  ],
  [
    "a jti of 1000 characters",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { jti: "j".repeat(1000) })] };
    },
    "dpop_proof_malformed",
  ],
  [
    "a numeric jti",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { jti: 7 } })] };
    },
    "dpop_proof_malformed",
  ],
  [
    "a string iat",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { iat: String(now()) } })] };
    },
    "dpop_proof_malformed",
  ],
  [
    "an absurd iat (1e300)",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { iat: 1e300 } })] };
    },
    "dpop_proof_malformed",
  ],
  [
    "a negative iat",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { iat: -1 } })] };
    },
    "dpop_proof_malformed",
  ],
  [
    "an htm that is an array",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { claims: { htm: ["GET"] } })] };
    },
    "dpop_proof_malformed",
  ],
  // --- clock edges (max age 120 s, skew 30 s) ---
  [
    "iat 149 s ago: within the window (120 s + 30 s skew)",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: now() - 149 })] };
    },
    "allowed",
  ],
  [
    "iat 152 s ago",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: now() - 152 })] };
    },
    "dpop_proof_expired",
  ],
  [
    "iat a day ago",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: now() - 86_400 })] };
    },
    "dpop_proof_expired",
  ],
  [
    "iat 0",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: 0 })] };
    },
    "dpop_proof_expired",
  ],
  [
    "iat 29 s ahead: within the skew",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: now() + 29 })] };
    },
    "allowed",
  ],
  [
    "iat 32 s ahead",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: now() + 32 })] };
    },
    "dpop_proof_in_future",
  ],
  [
    "iat in the year 5000",
    (kind) => {
      const token = boundTo(client.thumbprint);
      return { token, proofs: [proofFor(kind, token, client, { iat: 95_617_584_000 })] };
    },
    "dpop_proof_in_future",
  ],
];

describe.each(KINDS)("%s events", (kind) => {
  test.each(CASES)("%s", async (_name, make, code) => {
    expect(await outcome(kind, make(kind))).toBe(code);
    await rejections.settle();
    expect(rejections.seen).toEqual([]);
  });

  test("a genuine proof is accepted once; replayed, it is refused, however often", async () => {
    const token = boundTo(client.thumbprint);
    const proof = proofFor(kind, token);
    expect(await outcome(kind, { token, proofs: [proof] })).toBe("allowed");
    for (let i = 0; i < 5; i++) expect(await outcome(kind, { token, proofs: [proof] })).toBe("dpop_proof_replayed");
  });

  test("mutations of a genuine proof (bit flips, truncation, swapped or re-encoded parts) are never accepted", async () => {
    const token = boundTo(client.thumbprint);
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 63 }), async (at, how, bits) => {
        const proof = proofFor(kind, token);
        const index = at % proof.length;
        const mutated =
          how === 0
            ? `${proof.slice(0, index)}${String.fromCharCode(proof.charCodeAt(index) ^ (bits & 31 || 1))}${proof.slice(index + 1)}`
            : how === 1
              ? proof.slice(0, index)
              : how === 2
                ? proof.split(".").reverse().join(".")
                : how === 3
                  ? `${proof.slice(0, index)}.${proof.slice(index)}`
                  : how === 4
                    ? proof.replace(/^[^.]+/, b64url({ typ: "dpop+jwt", alg: "ES256", jwk: client.jwk, kid: "x" }))
                    : proof.replace(/\.[^.]+\./, `.${b64url({ ...claimsFor(kind, token), htm: "GET " })}.`);
        if (mutated === proof) return;
        const code = await outcome(kind, { token, proofs: [mutated] });
        expect(code).not.toBe("allowed");
        expect(code).toMatch(/^dpop_proof_/);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }),
      { numRuns: 600, seed: SEED, endOnFailure: true },
    );
    await rejections.settle();
    expect(rejections.seen).toEqual([]);
    // The mutations reached several stages, not only the first check.
    expect(codes.size).toBeGreaterThanOrEqual(4);
  }, 60_000);
});

describe("arbitrary request shapes around a bound token", () => {
  test("any DPoP header value, Host, method or path (strings or not) is a typed refusal, never a crash", async () => {
    const token = boundTo(client.thumbprint);
    const genuine = proofFor("http-v2", token);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.oneof(fc.anything(), fc.string(), fc.constant(genuine)),
        fc.oneof(fc.anything(), fc.constant("abcdef1234.execute-api.eu-west-1.amazonaws.com")),
        fc.oneof(fc.anything(), fc.constantFrom("GET", "get", "")),
        fc.oneof(fc.anything(), fc.constantFrom("/secured", "secured", "", "//secured")),
        async (kind, dpop, host, method, path) => {
          reasons.length = 0;
          const event = requestEvent(kind, { authorization: `DPoP ${token}` }) as unknown as {
            headers: Record<string, unknown>;
            requestContext: Record<string, unknown>;
          };
          event.headers.DPoP = dpop;
          event.headers.host = host;
          event.requestContext.domainName = host;
          if (kind === "http-v2") {
            (event.requestContext as { http: Record<string, unknown> }).http.method = method;
            (event as Record<string, unknown>).rawPath = path;
          } else {
            event.requestContext.httpMethod = method;
            event.requestContext.path = path;
          }
          const settled = await settleWithin(() => handler(event as never), BOUND_MS);
          if (settled.status === "resolved") {
            // Only the genuine proof, on the URL it was made for (a REST path without a stage is a
            // custom domain's root mapping), the first time.
            expect([dpop, host, method, path]).toEqual([genuine, "abcdef1234.execute-api.eu-west-1.amazonaws.com", "GET", "/secured"]);
            return;
          }
          expect(settled.status).toBe("rejected");
          expect((settled as { error: Error }).error.message).toBe("Unauthorized");
          expect(reasons).toHaveLength(1);
        },
      ),
      { numRuns: 800, seed: SEED, endOnFailure: true },
    );
    await rejections.settle();
    expect(rejections.seen).toEqual([]);
  }, 60_000);
});
