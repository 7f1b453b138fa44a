/**
 * Issue 19's mismatches end to end, held against the embedded provider (npm test:
 * test/e2e/diagnostics-embedded.test.ts) and real Keycloak (npm run test:keycloak:
 * test/keycloak/diagnostics.test.ts): for each, a realm set up the way the mismatch happens, the
 * refusal through serverless-offline on both API kinds, the hint on its log line, and `npm run
 * doctor` naming the same fix (and printing no secret and no token).
 *
 * Three stacks in front of the one realm, because hints come at most once per reason per minute
 * and two mismatches here share a reason: `main` (the default configuration), `wrongKind` (ID and
 * refresh tokens: invalid_audience and algorithm_not_allowed again), and `otherHost`, whose
 * KEYCLOAK_ISSUER names the realm through 127.0.0.1 while Keycloak names itself localhost.
 */
import { describe, expect, jest, test } from "@jest/globals";
import type { RunningStack } from "../../local/stack.js";
import { signJwt } from "../../lib/testing/tokens.js";
import { callApi, certs, clientCredentialsGrant, passwordGrant, sleep, tokenRequest } from "../contract/http.js";
import { generateRsaKey } from "../helpers/tokens.js";
import { payloadOf } from "../helpers/oidc-client.js";
import { runScript } from "../helpers/npm-script.js";
import { ES256, LIGHTWEIGHT, NO_AUDIENCE, NO_BASIC } from "./clients.js";

export interface StackUnderTest {
  readonly stack: RunningStack;
  /** serverless-offline's output lines (the functions' JSON log lines among them). */
  readonly output: readonly string[];
}

export interface MismatchSubject {
  readonly label: string;
  /** The realm's issuer, as Keycloak names it. */
  readonly issuer: string;
  readonly main: StackUnderTest;
  readonly wrongKind: StackUnderTest;
  /** KEYCLOAK_ISSUER is `configuredIssuer`: the realm's path on another host. */
  readonly otherHost: StackUnderTest & { readonly configuredIssuer: string };
  /** Keycloak's refresh tokens are HS512 JWTs (a hint); the embedded provider's are opaque strings (malformed_token, no hint). */
  readonly refreshTokens: "jwt" | "opaque";
}

const API_KINDS = [
  ["REST API", "/dev"],
  ["HTTP API", ""],
] as const;

type LogLine = Readonly<Record<string, unknown>>;

/** The first JSON log line matching `wanted`, waiting for serverless-offline to relay it. */
async function logLine(output: readonly string[], wanted: (line: LogLine) => boolean): Promise<LogLine> {
  for (let waited = 0; waited <= 15_000; waited += 100) {
    for (const text of output) {
      if (!text.trimStart().startsWith("{")) continue;
      try {
        const line = JSON.parse(text) as LogLine;
        if (wanted(line)) return line;
      } catch {
        // not a log line
      }
    }
    await sleep(100);
  }
  throw new Error(`no such log line; output:\n${output.slice(-40).join("\n")}`);
}

const refusal = (output: readonly string[], reason: string): Promise<LogLine> =>
  logLine(output, (line) => line.message === "request refused" && line.reason === reason);

interface DoctorRun {
  readonly code: string;
  readonly out: string;
}

async function doctor(args: readonly string[], issuer: string): Promise<DoctorRun> {
  const run = runScript(["run", "-s", "doctor", "--", ...args], { KEYCLOAK_ISSUER: issuer });
  const code = await run.exited;
  return { code, out: run.output() };
}

/** Nothing secret and no token: the client secret, the password, the token (or any 40-character piece of it). */
function expectNothingSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (secret.length > 60) {
      for (const part of secret.split(".")) if (part.length >= 40) expect(text).not.toContain(part.slice(-40));
    } else expect(text).not.toContain(secret);
  }
}

async function statusOn(stack: RunningStack, path: string, token: string): Promise<number[]> {
  const statuses: number[] = [];
  for (const [, prefix] of API_KINDS) statuses.push((await callApi(stack.baseUrl, "GET", `${prefix}${path}`, token)).status);
  return statuses;
}

function hintOf(line: LogLine): string {
  expect(typeof line.hint).toBe("string");
  return line.hint as string;
}

export function describeMismatches(subjectOf: () => MismatchSubject): void {
  // Each case starts `npm run doctor` (npm, tsx, discovery, a token) on a machine shared with other test runs.
  jest.setTimeout(120_000);
  describe("a client without an Audience mapper (aud has only account, or nothing)", () => {
    test("401 on both API kinds; the log line's hint names the Audience mapper; npm run doctor names the same fix", async () => {
      const { issuer, main } = subjectOf();
      const token = (await clientCredentialsGrant(issuer, NO_AUDIENCE)).access_token ?? "";
      expect([payloadOf(token).aud ?? []].flat()).not.toContain("secured-api");
      expect(await statusOn(main.stack, "/secured", token)).toEqual([401, 401]);
      const hint = hintOf(await refusal(main.output, "invalid_audience"));
      expect(hint).toMatch(
        /^token (has only aud "account"|has no aud), none of KEYCLOAK_AUDIENCE \(secured-api\): add an Audience mapper \(Included Client Audience: secured-api\) to client diag-no-audience/,
      );
      const run = await doctor(["--client", "--client-id", NO_AUDIENCE.id, "--client-secret", NO_AUDIENCE.secret], issuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`fix: ${hint}`);
      expect(run.out).toContain("decision: refused, 401, reason invalid_audience");
      expectNothingSecret(run.out, [NO_AUDIENCE.secret, token]);
      expectNothingSecret(main.output.join("\n"), [token]);
    });
  });

  describe("the realm reached through another host than KEYCLOAK_ISSUER's", () => {
    test("401 invalid_issuer; the hint names Keycloak's hostname and KEYCLOAK_ISSUER; npm run doctor finds discovery's issuer differs and names the same fix", async () => {
      const { issuer, otherHost } = subjectOf();
      const token = (await passwordGrant(issuer, "alice")).access_token ?? "";
      expect(await statusOn(otherHost.stack, "/secured", token)).toEqual([401, 401]);
      const hint = hintOf(await refusal(otherHost.output, "invalid_issuer"));
      const ours = new URL(issuer).host;
      const configured = new URL(otherHost.configuredIssuer).host;
      expect(hint).toContain(`token iss has this realm's path on another host (${ours}; KEYCLOAK_ISSUER has ${configured})`);
      expect(hint).toContain("KC_HOSTNAME or --hostname");
      const run = await doctor(["--user", "alice"], otherHost.configuredIssuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`FAIL  discovery's issuer is ${JSON.stringify(issuer)}, not KEYCLOAK_ISSUER ${JSON.stringify(otherHost.configuredIssuer)}`);
      expect(run.out).toContain("pin Keycloak's hostname (KC_HOSTNAME or --hostname");
      expect(run.out).toContain(`fix: ${hint}`);
      expect(run.out).toContain("decision: refused, 401, reason invalid_issuer");
      expectNothingSecret(run.out, [token]);
    });
  });

  describe("a client without the basic client scope (Keycloak 25+: no sub)", () => {
    test("a user's token is refused with 401 missing_subject; the hint names the basic scope; npm run doctor names the same fix", async () => {
      const { issuer, main } = subjectOf();
      const answer = await tokenRequest(issuer, { grant_type: "password", username: "alice", password: "alice", scope: "openid" }, NO_BASIC);
      expect(answer.status).toBe(200);
      const token = answer.body.access_token ?? "";
      expect(payloadOf(token).sub).toBeUndefined();
      expect(await statusOn(main.stack, "/secured", token)).toEqual([401, 401]);
      const hint = hintOf(await refusal(main.output, "missing_subject"));
      expect(hint).toMatch(
        /^token has no sub: Keycloak 25\+ adds sub only through the basic client scope; add basic to the default client scopes of client diag-no-basic/,
      );
      const run = await doctor(["--user", "alice", "--password", "alice", "--client-id", NO_BASIC.id, "--client-secret", NO_BASIC.secret], issuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`fix: ${hint}`);
      expect(run.out).toContain("decision: refused, 401, reason missing_subject");
      expectNothingSecret(run.out, [NO_BASIC.secret, token]);
    });
  });

  describe("lightweight access tokens (no roles)", () => {
    test("allowed, but 403 on a role route on both API kinds; the authorizer's and the handler's lines name the fix; npm run doctor names it for the route", async () => {
      const { issuer, main } = subjectOf();
      const token = (await clientCredentialsGrant(issuer, LIGHTWEIGHT)).access_token ?? "";
      const claims = payloadOf(token);
      expect(claims.realm_access).toBeUndefined();
      expect(claims.resource_access).toBeUndefined();
      expect(await statusOn(main.stack, "/secured", token)).toEqual([200, 200]);
      expect(await statusOn(main.stack, "/admin", token)).toEqual([403, 403]);
      // REST: API Gateway applies the policy, the handler never runs; the authorizer says why.
      const allowed = await logLine(main.output, (line) => line.message === "allowed token carries no roles");
      expect(allowed).toMatchObject({ level: "WARN", reason: "no_role_claims", decision: "allow" });
      const hint = hintOf(allowed);
      expect(hint).toMatch(
        /^token carries no roles \(no realm_access, no resource_access\): give client diag-lightweight the roles client scope.*lightweight access token/,
      );
      // HTTP API: the protected handler refuses, and says the same.
      const forbidden = await logLine(main.output, (line) => line.message === "request forbidden" && typeof line.hint === "string");
      expect(forbidden).toMatchObject({ reason: "insufficient_rights", route: "GET /admin", hint });
      const run = await doctor(["--client", "--client-id", LIGHTWEIGHT.id, "--client-secret", LIGHTWEIGHT.secret], issuer);
      expect(run.out).toContain("decision: allowed");
      expect(run.out).toContain("no    GET /admin  (realm role admin)");
      expect(run.out).toContain(`fix: ${hint}`);
      expectNothingSecret(run.out, [LIGHTWEIGHT.secret, token]);
    });
  });

  describe("a client whose tokens are signed with ES256, while KEYCLOAK_ALGORITHMS is RS256", () => {
    test("401 algorithm_not_allowed; the hint names KEYCLOAK_ALGORITHMS and the signature algorithm settings; npm run doctor names the same fix", async () => {
      const { issuer, main } = subjectOf();
      const token = (await clientCredentialsGrant(issuer, ES256)).access_token ?? "";
      expect(JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).alg).toBe("ES256");
      expect(await statusOn(main.stack, "/secured", token)).toEqual([401, 401]);
      const hint = hintOf(await refusal(main.output, "algorithm_not_allowed"));
      expect(hint).toMatch(/^token alg ES256 is not in KEYCLOAK_ALGORITHMS \(RS256\): .*add ES256 to KEYCLOAK_ALGORITHMS/);
      const run = await doctor(["--client", "--client-id", ES256.id, "--client-secret", ES256.secret], issuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`fix: ${hint}`);
      expect(run.out).toMatch(/warn {2}the realm also publishes signing keys for ES256/);
      expectNothingSecret(run.out, [ES256.secret, token]);
    });
  });

  describe("a kid that names the realm's encryption key", () => {
    test("401 key_not_usable; the hint says the key is for encryption and names the realm's keys; npm run doctor names the same fix", async () => {
      const { issuer, main } = subjectOf();
      const encryption = (await certs(issuer)).find((key) => key.use === "enc");
      expect(encryption).toBeDefined();
      const claims = payloadOf((await passwordGrant(issuer, "alice")).access_token ?? "");
      const token = signJwt({ alg: "RS256", typ: "JWT", kid: encryption?.kid }, claims, generateRsaKey().privateKey);
      expect(await statusOn(main.stack, "/secured", token)).toEqual([401, 401]);
      const hint = hintOf(await refusal(main.output, "key_not_usable"));
      expect(hint).toMatch(/^token kid names the realm's encryption key \(use "enc"\)/);
      const run = await doctor(["--token", token], issuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`fix: ${hint}`);
      expect(run.out).toContain("decision: refused, 401, reason key_not_usable");
      expectNothingSecret(run.out, [token]);
    });
  });

  describe("an ID token or a refresh token instead of the access token", () => {
    test("the ID token: 401; the hint says to send the access_token; npm run doctor names the same fix", async () => {
      const { issuer, wrongKind } = subjectOf();
      const idToken = (await passwordGrant(issuer, "alice")).id_token ?? "";
      expect(payloadOf(idToken).typ).toBe("ID");
      expect(await statusOn(wrongKind.stack, "/secured", idToken)).toEqual([401, 401]);
      // Its aud is the client, so the audience check stops it first; the hint still knows it by typ.
      const hint = hintOf(await refusal(wrongKind.output, "invalid_audience"));
      expect(hint).toMatch(/^an ID token was sent \(typ ID\): send the token response's access_token/);
      const run = await doctor(["--token", idToken], issuer);
      expect(run.code).toBe("1");
      expect(run.out).toContain(`fix: ${hint}`);
      expectNothingSecret(run.out, [idToken]);
    });

    test("the refresh token: 401; a hint (for a JWT refresh token) and npm run doctor say to send the access_token", async () => {
      const { issuer, wrongKind, refreshTokens } = subjectOf();
      const refreshToken = (await passwordGrant(issuer, "alice")).refresh_token ?? "";
      expect(await statusOn(wrongKind.stack, "/secured", refreshToken)).toEqual([401, 401]);
      const run = await doctor(["--token", refreshToken], issuer);
      expect(run.code).toBe("1");
      expectNothingSecret(run.out, [refreshToken]);
      if (refreshTokens === "jwt") {
        // Keycloak's refresh tokens are HS512: the allow-list stops them; the hint knows them by typ.
        const hint = hintOf(await refusal(wrongKind.output, "algorithm_not_allowed"));
        expect(hint).toMatch(/^a refresh token was sent \(typ Refresh\): send the token response's access_token/);
        expect(run.out).toContain(`fix: ${hint}`);
      } else {
        // An opaque string says nothing about itself: no hint, but the doctor's check names the fix.
        expect((await refusal(wrongKind.output, "malformed_token")).hint).toBeUndefined();
        expect(run.out).toContain("FAIL  not a JWS compact JWT");
        expect(run.out).toContain("fix: send the access_token of the token response as it came");
      }
    });
  });

  describe("API Gateway's rules under serverless-offline", () => {
    test("no answer of the authorizer, in any of the runs above, broke them (no gateway_rules line)", () => {
      const { main, wrongKind, otherHost } = subjectOf();
      for (const { output } of [main, wrongKind, otherHost]) expect(output.filter((line) => line.includes('"gateway_rules"'))).toEqual([]);
    });
  });
}
