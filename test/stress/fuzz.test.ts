/**
 * Property-based robustness of the verifier and the authorizer handler: over 12,000 generated and
 * mutated tokens, Authorization values and events, every input ends in a typed rejection (or, for
 * a token the realm really issued, an acceptance with exactly its claims), promptly, with nothing
 * escaping as an unhandled rejection.
 *
 * Reproduce a failure with the seed (and path) fast-check prints: FUZZ_SEED=<seed> npm test -- fuzz
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import type { AuthorizerEvent, EventKind } from "../../lib/apigateway/events.js";
import { loadAuthorizerConfig, SUPPORTED_ALGORITHMS } from "../../lib/config/authorizer-config.js";
import { TokenRejectedError, type RejectionCode } from "../../lib/errors.js";
import type { LogFields as LogRecord } from "../../lib/operations/decision-log.js";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { EVENT_KINDS, METHOD_ARN, authorizerEvent } from "../helpers/events.js";
import {
  compact,
  createHostileRealm,
  GenuineTokens,
  hostileHeaders,
  mutatedGenuine,
  poisonedClaims,
  structuralGarbage,
  tokenCase,
  validClaims,
  type HostileRealm,
  type TokenCase,
} from "../helpers/hostile-tokens.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { settleWithin, watchUnhandledRejections, type RejectionWatch } from "../helpers/run-bounds.js";
import { TEST_AUDIENCE } from "../helpers/tokens.js";
import { API_ROUTES } from "../../functions/routes.js";
import { loggingObserver } from "../helpers/observer.js";
import { gatewayChecked } from "../helpers/gateway.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
/** Generous on purpose: a functional no-hang check, not a benchmark (a verification takes well under 1 ms). */
const BOUND_MS = 250;
/** The configuration every default comes from. */
const DEFAULTS = loadAuthorizerConfig({ KEYCLOAK_ISSUER: "https://kc.example.com/realms/x", KEYCLOAK_AUDIENCE: "x" });
const CAP = DEFAULTS.maxTokenBytes;
const RUNS = { structure: 2200, headers: 2200, claims: 1600, mutations: 2600, oversized: 300, authorization: 2600, events: 500 };

let idp: IdpStub;
let realm: HostileRealm;
let genuine: GenuineTokens;
let strict: AccessTokenVerifier;
let wide: AccessTokenVerifier;
let handler: ReturnType<typeof createAuthorizerHandler>;
/** The handler's most recent log line (properties run one input at a time). */
const last: { log?: { level: string; message: string; fields: LogRecord } | undefined } = {};
/** Read through a call, so TypeScript does not narrow it to the `undefined` set before the await. */
const loggedLine = (): { level: string; message: string; fields: LogRecord } | undefined => last.log;
let rejections: RejectionWatch;
let startedAt: number;
const codesSeen = new Map<string, number>();
let runsTotal = 0;

beforeAll(async () => {
  idp = await startIdpStub([]);
  realm = createHostileRealm(idp.issuer);
  idp.setKeys(realm.jwks);
  genuine = new GenuineTokens(realm);
  const now = Math.floor(Date.now() / 1000);
  genuine.issue("RS256", validClaims(realm.issuer));
  genuine.issue("RS256", { exp: now + 3600, iat: now, iss: realm.issuer, aud: TEST_AUDIENCE, sub: "svc", typ: "Bearer", azp: "api-client" });
  genuine.issue("RS256", validClaims(realm.issuer, { nbf: now - 10, name: "\u00dcn\u00efc\u00f6d\u00e9 \u{1F600} \u202e", aud: TEST_AUDIENCE }));
  genuine.issue("RS256", validClaims(realm.issuer), { typ: "at+jwt" });
  genuine.issue("ES256", validClaims(realm.issuer));
  genuine.issue("PS256", validClaims(realm.issuer));
  // Both with an azp allow-list, so `azp` is checked too; `wide` allows every algorithm the
  // library can verify, so algorithm confusion is tried against the most permissive setting.
  const env = { KEYCLOAK_ALLOWED_CLIENTS: "api-client" };
  strict = createAccessTokenVerifier(testConfig(realm.issuer, env));
  wide = createAccessTokenVerifier(testConfig(realm.issuer, { ...env, KEYCLOAK_ALGORITHMS: SUPPORTED_ALGORITHMS.join(",") }));
  await Promise.all([strict.prefetch(), wide.prefetch()]);
  handler = gatewayChecked(
    createAuthorizerHandler({
      verifier: strict,
      routes: API_ROUTES,
      observer: loggingObserver((level, message, fields) => {
        last.log = { level, message, fields };
      }),
    }),
  );
  rejections = watchUnhandledRejections();
  startedAt = performance.now();
});

afterAll(async () => {
  rejections?.stop();
  await idp?.close();
});

function count(code: string): void {
  codesSeen.set(code, (codesSeen.get(code) ?? 0) + 1);
}

const settings = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED, endOnFailure: true });

async function assertProperty<T extends unknown[]>(numRuns: number, property: fc.IAsyncPropertyWithHooks<T>): Promise<void> {
  await fc.assert(property, settings(numRuns) as fc.Parameters<T>);
  runsTotal += numRuns;
  await rejections.settle();
  expect(rejections.seen).toEqual([]);
}

/** One verification, bounded: accepted with claims, or refused with a typed code. Anything else throws. */
async function verifyOnce(
  verifier: AccessTokenVerifier,
  item: TokenCase,
): Promise<{ accepted: true; claims: unknown } | { accepted: false; code: RejectionCode }> {
  const settled = await settleWithin(() => verifier.verify(item.token), BOUND_MS);
  if (settled.status === "timed-out") throw new Error(`no answer within ${BOUND_MS} ms: ${item.label}`);
  if (settled.ms > BOUND_MS) throw new Error(`answered after ${settled.ms.toFixed(0)} ms (bound ${BOUND_MS}): ${item.label}`);
  if (settled.status === "resolved") return { accepted: true, claims: settled.value.claims };
  if (!(settled.error instanceof TokenRejectedError)) {
    throw new Error(`not a typed rejection (${String(settled.error)}): ${item.label}`, { cause: settled.error });
  }
  count(settled.error.code);
  return { accepted: false, code: settled.error.code };
}

/**
 * The verifier oracle: accepted only if the realm issued this very token (and then with its
 * claims, and ES256 or PS256 only where allowed); a pristine genuine RS256 token is never refused.
 */
function verifierProperty(arbitrary: fc.Arbitrary<TokenCase>) {
  return fc.asyncProperty(arbitrary, fc.constantFrom("strict", "wide"), async (item, which) => {
    const outcome = await verifyOnce(which === "strict" ? strict : wide, item);
    if (outcome.accepted) {
      const original = genuine.original(item.token);
      if (original === undefined) throw new Error(`FORGERY ACCEPTED by ${which}: ${item.label}`);
      if (original.alg !== "RS256" && which === "strict") throw new Error(`${original.alg} accepted by the RS256-only verifier: ${item.label}`);
      expect(outcome.claims).toEqual(original.claims);
    } else if (item.mustAccept) {
      throw new Error(`genuine token refused by ${which} with ${outcome.code}: ${item.label}`);
    }
  });
}

describe("the verifier", () => {
  test(`structural garbage: strings, unicode, segment counts, JWE, bad base64url, non-object and non-JSON parts (${RUNS.structure} runs)`, async () => {
    await assertProperty(RUNS.structure, verifierProperty(structuralGarbage(realm, genuine)));
  }, 60_000);

  test(`hostile JOSE headers: none, HMAC with the public key, jwk/jku/x5u/x5c, crit, bad kids, foreign signatures (${RUNS.headers} runs)`, async () => {
    await assertProperty(RUNS.headers, verifierProperty(hostileHeaders(realm)));
  }, 60_000);

  test(`validly signed tokens with claims of the wrong type or value (${RUNS.claims} runs)`, async () => {
    await assertProperty(RUNS.claims, verifierProperty(poisonedClaims(realm)));
  }, 60_000);

  test(`mutations of genuine tokens: bit flips, truncation, swaps, dots, whitespace, re-encoded parts (${RUNS.mutations} runs)`, async () => {
    await assertProperty(RUNS.mutations, verifierProperty(mutatedGenuine(realm, genuine)));
  }, 60_000);

  test(`validly signed tokens are accepted up to ${CAP} characters and refused above, up to 1 MiB (${RUNS.oversized} runs)`, async () => {
    const header = { alg: "RS256", typ: "JWT", kid: realm.rsa.kid };
    const bare = compact(realm, header, validClaims(realm.issuer, { pad: "" }), { by: "rsa", digest: "sha256" }).length;
    const target = fc.oneof(fc.integer({ min: CAP - 400, max: CAP + 400 }), fc.integer({ min: CAP, max: 1024 * 1024 }));
    let below = 0;
    let above = 0;
    await assertProperty(
      RUNS.oversized,
      fc.asyncProperty(target, fc.constantFrom("strict", "wide"), async (length, which) => {
        const claims = validClaims(realm.issuer, { pad: "x".repeat(Math.max(0, Math.floor(((length - bare) * 3) / 4))) });
        const item = tokenCase(`signed token for ${length} chars`, compact(realm, header, claims, { by: "rsa", digest: "sha256" }));
        const outcome = await verifyOnce(which === "strict" ? strict : wide, item);
        if (item.token.length <= CAP) {
          below += 1;
          expect(outcome).toEqual({ accepted: true, claims });
        } else {
          above += 1;
          expect(outcome).toEqual({ accepted: false, code: "token_too_large" });
        }
      }),
    );
    // Both sides of the cap were really exercised.
    expect(below).toBeGreaterThan(20);
    expect(above).toBeGreaterThan(20);
  }, 60_000);
});

// --- the handler ---------------------------------------------------------------------------------

/** Lib's RFC 6750 reading of the Authorization value, restated independently for the oracle. */
const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$/;

type EventMutation = "none" | "duplicate-header" | "multi-value" | "bad-arn" | "no-type" | "no-version";
const MUTATIONS: Record<EventKind, readonly EventMutation[]> = {
  "rest-token": ["none", "none", "none", "bad-arn", "no-type"],
  "rest-request": ["none", "none", "none", "duplicate-header", "multi-value", "bad-arn"],
  "http-v2": ["none", "none", "none", "duplicate-header", "no-version"],
};

function mutateEvent(event: AuthorizerEvent, mutation: EventMutation, value: string | undefined, badArn: string): AuthorizerEvent {
  const copy = { ...event } as Record<string, unknown>;
  switch (mutation) {
    case "none":
      break;
    case "duplicate-header": {
      // A second Authorization header under another casing: ambiguous, so refused.
      const headers = { ...(copy.headers as Record<string, string>) };
      headers[copy.version === "2.0" ? "Authorization" : "AUTHORIZATION"] = value ?? "";
      copy.headers = headers;
      break;
    }
    case "multi-value":
      copy.multiValueHeaders = { ...(copy.multiValueHeaders as Record<string, string[]>), Authorization: [value ?? "", value ?? ""] };
      break;
    case "bad-arn":
      copy.methodArn = badArn;
      break;
    case "no-type":
      delete copy.type;
      break;
    case "no-version":
      delete copy.version;
      break;
  }
  return copy as unknown as AuthorizerEvent;
}

/** Any token from every generator above, plus oversized filler and untouched genuine tokens. */
function anyToken(): fc.Arbitrary<TokenCase> {
  return fc.oneof(
    { arbitrary: structuralGarbage(realm, genuine), weight: 2 },
    { arbitrary: hostileHeaders(realm), weight: 2 },
    { arbitrary: poisonedClaims(realm), weight: 1 },
    { arbitrary: mutatedGenuine(realm, genuine), weight: 3 },
    { arbitrary: fc.integer({ min: CAP - 10, max: 1024 * 1024 }).map((n) => tokenCase(`${n} x A`, "A".repeat(n))), weight: 1 },
    // Genuine tokens as they are, so the accepting path is exercised often enough to be checked.
    { arbitrary: fc.constantFrom(...genuine.all).map((issued) => tokenCase(`genuine ${issued.alg}`, issued.token, issued.alg === "RS256")), weight: 2 },
  );
}

interface AuthorizationCase {
  readonly value: string | undefined;
  readonly token: TokenCase | undefined;
  /** Exactly "Bearer" (any case), spaces, then the token: nothing else about the value is odd. */
  readonly wellFormed: boolean;
}

function authorizationValues(): fc.Arbitrary<AuthorizationCase> {
  const scheme = fc.oneof(
    { arbitrary: fc.mixedCase(fc.constant("Bearer")), weight: 4 },
    { arbitrary: fc.constantFrom("Basic", "Token", "Bearer:", "", "JWT", "DPoP", "B\u0435arer", "Bearer\u0000", "\u00a0Bearer"), weight: 1 },
  );
  const separator = fc.oneof(
    { arbitrary: fc.constantFrom(" ", "  "), weight: 4 },
    { arbitrary: fc.constantFrom("", "\t", "\u00a0", "\n", " \t", "\u3000"), weight: 1 },
  );
  const suffix = fc.oneof(
    { arbitrary: fc.constant(""), weight: 4 },
    { arbitrary: fc.constantFrom(" ", "\t", " x", ",", "\n", "\u0000", "=", " Bearer x"), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: fc.constant({ value: undefined, token: undefined, wellFormed: false }), weight: 1 },
    {
      arbitrary: fc
        .oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }))
        .map((value) => ({ value, token: undefined, wellFormed: false })),
      weight: 2,
    },
    {
      arbitrary: fc.record({ scheme, separator, token: anyToken(), suffix }).map(({ scheme: s, separator: sep, token, suffix: tail }) => ({
        value: `${s}${sep}${token.token}${tail}`,
        token,
        wellFormed: /^bearer$/i.test(s) && /^ +$/.test(sep) && tail === "",
      })),
      weight: 12,
    },
  );
}

describe("the authorizer handler", () => {
  test(`Authorization values on all three event kinds: Unauthorized unless genuine (${RUNS.authorization} runs)`, async () => {
    const badArns = fc.constantFrom(
      "",
      "not-an-arn",
      "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234",
      "arn:aws:lambda:eu-west-1:1:function:x/dev/GET/secured",
    );
    const kindAndMutation = fc.constantFrom(...EVENT_KINDS).chain((kind) => fc.tuple(fc.constant(kind), fc.constantFrom(...MUTATIONS[kind])));
    let allowed = 0;
    await assertProperty(
      RUNS.authorization,
      fc.asyncProperty(kindAndMutation, authorizationValues(), badArns, async ([kind, mutation], authorization, badArn) => {
        const event = mutateEvent(
          authorizerEvent(kind, authorization.value),
          authorization.value === undefined ? "none" : mutation,
          authorization.value,
          badArn,
        );
        const label = `${kind}/${mutation}: ${authorization.token?.label ?? JSON.stringify(authorization.value)}`;
        last.log = undefined;
        const settled = await settleWithin(() => handler(event), BOUND_MS);
        if (settled.status === "timed-out") throw new Error(`no answer within ${BOUND_MS} ms: ${label}`);
        expect(settled.ms).toBeLessThan(BOUND_MS);
        const token = authorization.value === undefined ? undefined : BEARER.exec(authorization.value)?.[1];
        const original = token === undefined ? undefined : genuine.original(token);
        if (settled.status === "resolved") {
          // Only a genuine RS256 token, in an intact event, may get through.
          if (original === undefined || original.alg !== "RS256" || (mutation !== "none" && authorization.value !== undefined)) {
            throw new Error(`ALLOWED, yet not a genuine RS256 token in an intact event: ${label}`);
          }
          allowed += 1;
          if (kind === "http-v2") expect((settled.value as APIGatewaySimpleAuthorizerWithContextResult<unknown>).isAuthorized).toBe(true);
          else expect((settled.value as APIGatewayAuthorizerResult).principalId).toBe(original.claims.sub);
          return;
        }
        expect(settled.error).toBeInstanceOf(Error);
        expect((settled.error as Error).message).toBe("Unauthorized");
        // One log line per refusal, at WARN, with a rejection code (never keys_unavailable).
        expect(loggedLine()?.level).toBe("WARN");
        expect(loggedLine()?.fields.reason).toEqual(expect.any(String));
        count(`handler:${String(loggedLine()?.fields.reason)}`);
        if (authorization.token?.mustAccept === true && authorization.wellFormed && mutation === "none") {
          throw new Error(`genuine token refused (${String(loggedLine()?.fields.reason)}): ${label}`);
        }
      }),
    );
    expect(allowed).toBeGreaterThan(20);
  }, 60_000);

  test(`arbitrary event shapes are refused, never crashed on (${RUNS.events} runs)`, async () => {
    const shaped = fc.record(
      {
        type: fc.oneof(fc.constantFrom("TOKEN", "REQUEST", "token", ""), fc.anything()),
        version: fc.oneof(fc.constantFrom("2.0", "1.0"), fc.anything()),
        methodArn: fc.oneof(fc.constant(METHOD_ARN), fc.string(), fc.anything()),
        authorizationToken: fc.oneof(fc.string(), fc.anything(), fc.constant("Bearer a.b.c")),
        headers: fc.oneof(fc.anything(), fc.dictionary(fc.mixedCase(fc.constant("authorization")), fc.anything())),
        multiValueHeaders: fc.oneof(fc.anything(), fc.dictionary(fc.mixedCase(fc.constant("authorization")), fc.anything())),
      },
      { requiredKeys: [] },
    );
    await assertProperty(
      RUNS.events,
      fc.asyncProperty(fc.oneof(fc.anything(), shaped), async (event) => {
        last.log = undefined;
        const settled = await settleWithin(() => handler(event as AuthorizerEvent), BOUND_MS);
        expect(settled.status).toBe("rejected");
        expect(settled.ms).toBeLessThan(BOUND_MS);
        expect(((settled as { error: unknown }).error as Error).message).toBe("Unauthorized");
        expect(loggedLine()?.level).toBe("WARN");
      }),
    );
  }, 60_000);
});

describe("after the run", () => {
  test("every rejection stage was reached, nothing was left unhandled, and keys were not refetched in a storm", async () => {
    await rejections.settle();
    expect(rejections.seen).toEqual([]);
    const elapsed = performance.now() - startedAt;
    const reached = new Set(codesSeen.keys());
    // If a generator silently stopped reaching a stage, the properties above would pass vacuously.
    for (const code of [
      "malformed_token",
      "algorithm_not_allowed",
      "missing_kid",
      "unsupported_crit",
      "embedded_key_header",
      "unknown_kid",
      "key_not_usable",
      "invalid_signature",
      "invalid_issuer",
      "invalid_audience",
      "missing_exp",
      "token_expired",
      "missing_iat",
      "iat_in_future",
      "token_not_yet_valid",
      "invalid_token_type",
      "client_not_allowed",
      "token_too_large",
      "handler:missing_token",
      "handler:malformed_authorization_header",
      "handler:unsupported_event",
    ]) {
      expect([code, reached.has(code)]).toEqual([code, true]);
    }
    // One discovery per verifier; unknown kids refetch at most once per cooldown each.
    const cooldowns = Math.ceil(elapsed / (DEFAULTS.jwksCooldownSeconds * 1000));
    expect(idp.counts.discovery).toBe(2);
    expect(idp.counts.jwks).toBeLessThanOrEqual(2 * (1 + cooldowns));
    console.log(
      `fuzz: ${runsTotal} runs in ${(elapsed / 1000).toFixed(1)} s (seed ${SEED}); JWKS fetches ${idp.counts.jwks}; codes ${JSON.stringify(Object.fromEntries([...codesSeen].sort()))}`,
    );
    expect(runsTotal).toBeGreaterThanOrEqual(10_000);
  });
});
