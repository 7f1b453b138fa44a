/**
 * What API Gateway accepts from a Lambda authorizer, checked by our own code rather than trusted to
 * serverless-offline, which is more lenient: it takes context values of any type, a truthy
 * `isAuthorized`, any error message as a 401, and never measures an ARN. On AWS each of those is a
 * 500 (`AuthorizerConfigurationException`) or a silent 403. The rules, from API Gateway's
 * documentation ("Output from an API Gateway Lambda authorizer", the REST and HTTP API quotas):
 *
 * - REST (TOKEN, REQUEST): `principalId` a string; `policyDocument` with Version `2012-10-17` and
 *   statements of Effect `Allow`/`Deny`, Action `execute-api:Invoke`, and execute-api Resource ARNs
 *   of at most 512 characters each; `context` values only strings, numbers or booleans (no
 *   objects, arrays or null); `usageIdentifierKey`, when present, a string;
 * - HTTP API simple responses (payload 2.0): `isAuthorized` a real boolean (`"true"` is not);
 *   `context` an object of JSON values;
 * - a refusal meant as 401 is exactly `Error("Unauthorized")` (any other message is a 500);
 * - the whole answer within Lambda's 6 MB synchronous response.
 *
 * Used by the tests on every answer the authorizer gives, by `npm start` (through
 * {@link enforceGatewayRules}, only when serverless-offline sets IS_OFFLINE=true), and by users'
 * own tests (lib/testing). Never on the deployed hot path.
 */
import type { EventKind } from "./events.js";

/** API Gateway's documented limits. */
export const GATEWAY_LIMITS = {
  /** "the Resource ARN, as shown in the policy statement output by the authorizer, is currently limited to 512 characters" */
  policyResourceChars: 512,
  /** "For an authorization-enabled method ARN ... the maximum length is 1600 bytes" (else 414 before the authorizer runs). */
  methodArnBytes: 1600,
  /** Lambda's synchronous invocation response payload. */
  responseBytes: 6 * 1024 * 1024,
} as const;

/** What the authorizer did: returned a result, or threw. */
export type AuthorizerAnswer = { readonly result: unknown } | { readonly error: unknown };

/** The exact message API Gateway maps to 401. */
const UNAUTHORIZED = "Unauthorized";
const RESOURCE_ARN = /^arn:aws[\w-]*:execute-api:[\w-]+:[^:/]+:[^/]+\/[^/]+\/[^/]+(\/.*)?$/;

/**
 * Every way `answer` breaks what API Gateway accepts for an authorizer of `kind`; empty when
 * API Gateway takes it as the authorizer meant it. A thrown error other than `Unauthorized` is a
 * deliberate 500 (keys unavailable) and no violation, unless its message is a near miss of
 * `Unauthorized` (a 401 that would turn into a 500).
 */
export function gatewayViolations(kind: EventKind, answer: AuthorizerAnswer): string[] {
  if ("error" in answer) return errorViolations(answer.error);
  const problems: string[] = [];
  const { result } = answer;
  if (!isPlainObject(result)) return [`the answer is ${describe(result)}, not an object`];
  let size = 0;
  try {
    size = Buffer.byteLength(JSON.stringify(result));
  } catch {
    problems.push("the answer cannot be serialised as JSON");
  }
  if (size > GATEWAY_LIMITS.responseBytes) problems.push(`the answer is ${size} bytes, above Lambda's ${GATEWAY_LIMITS.responseBytes}-byte response limit`);
  if (kind === "http-v2") {
    if (typeof result.isAuthorized !== "boolean") problems.push(`isAuthorized is ${describe(result.isAuthorized)}: HTTP API simple responses need a boolean`);
    if (result.context !== undefined) {
      if (!isPlainObject(result.context)) problems.push(`context is ${describe(result.context)}, not an object`);
      else
        for (const [key, value] of Object.entries(result.context)) if (!isJson(value)) problems.push(`context.${key} is ${describe(value)}, not a JSON value`);
    }
    return problems;
  }
  if (typeof result.principalId !== "string" || result.principalId === "")
    problems.push(`principalId is ${describe(result.principalId)}: REST needs a non-empty string`);
  problems.push(...policyViolations(result.policyDocument));
  if (result.context !== undefined) {
    if (!isPlainObject(result.context)) problems.push(`context is ${describe(result.context)}, not an object`);
    else {
      for (const [key, value] of Object.entries(result.context)) {
        const scalar = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
        if (!scalar) problems.push(`context.${key} is ${describe(value)}: REST authorizer contexts take only strings, numbers and booleans`);
      }
    }
  }
  if (result.usageIdentifierKey !== undefined && typeof result.usageIdentifierKey !== "string") {
    problems.push(`usageIdentifierKey is ${describe(result.usageIdentifierKey)}, not a string`);
  }
  return problems;
}

function errorViolations(error: unknown): string[] {
  if (!(error instanceof Error)) return [`the authorizer threw ${describe(error)}, not an Error: API Gateway answers 500`];
  if (error.message !== UNAUTHORIZED && error.message.trim().toLowerCase() === UNAUTHORIZED.toLowerCase()) {
    return [`the error message is ${JSON.stringify(error.message)}: only exactly "Unauthorized" is a 401, this is a 500`];
  }
  return [];
}

function policyViolations(document: unknown): string[] {
  if (!isPlainObject(document)) return [`policyDocument is ${describe(document)}, not an object`];
  const problems: string[] = [];
  if (document.Version !== "2012-10-17") problems.push(`policyDocument.Version is ${describe(document.Version)}, not "2012-10-17"`);
  const statements = document.Statement;
  if (!Array.isArray(statements) || statements.length === 0) return [...problems, "policyDocument.Statement is not a non-empty array"];
  statements.forEach((statement: unknown, index) => {
    const at = `policyDocument.Statement[${index}]`;
    if (!isPlainObject(statement)) {
      problems.push(`${at} is ${describe(statement)}, not an object`);
      return;
    }
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") problems.push(`${at}.Effect is ${describe(statement.Effect)}, not "Allow" or "Deny"`);
    const actions = [statement.Action].flat();
    if (actions.length === 0 || !actions.every((action) => action === "execute-api:Invoke" || action === "execute-api:*" || action === "*")) {
      problems.push(`${at}.Action is not execute-api:Invoke`);
    }
    const resources = [statement.Resource].flat();
    if (resources.length === 0) problems.push(`${at}.Resource is empty`);
    for (const resource of resources) {
      if (typeof resource !== "string") problems.push(`${at}.Resource holds ${describe(resource)}, not a string`);
      else if (resource.length > GATEWAY_LIMITS.policyResourceChars)
        problems.push(`${at}.Resource has an ARN of ${resource.length} characters, above API Gateway's ${GATEWAY_LIMITS.policyResourceChars}`);
      else if (!RESOURCE_ARN.test(resource)) problems.push(`${at}.Resource holds ${JSON.stringify(resource.slice(0, 80))}, not an execute-api ARN`);
    }
  });
  return problems;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJson(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  return isPlainObject(value) && Object.values(value).every(isJson);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object") return "an object";
  return typeof value === "number" || typeof value === "boolean" ? `${typeof value} ${String(value)}` : String(typeof value);
}

/**
 * The authorizer, each answer checked against {@link gatewayViolations}: one that API Gateway
 * would refuse is reported to `onViolation` and turned into the failure it would be on AWS (a
 * thrown error that is not `Unauthorized`), so a local run cannot pass where production fails.
 * For serverless-offline (IS_OFFLINE=true) and tests only: it costs a serialisation per answer.
 */
export function enforceGatewayRules<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
  kindOf: (event: E) => EventKind | undefined,
  onViolation: (violations: readonly string[], kind: EventKind) => void,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    const kind = kindOf(event);
    let result: R;
    try {
      result = await handler(event, context);
    } catch (error) {
      const violations = kind === undefined ? [] : gatewayViolations(kind, { error });
      if (kind !== undefined && violations.length > 0) onViolation(violations, kind);
      throw error;
    }
    const violations = kind === undefined ? [] : gatewayViolations(kind, { result });
    if (kind !== undefined && violations.length > 0) {
      onViolation(violations, kind);
      throw new Error(`Authorizer answer API Gateway would refuse: ${violations.join("; ")}`);
    }
    return result;
  };
}
