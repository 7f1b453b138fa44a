/**
 * Prints one token from Keycloak (or the local provider) for use in curl and scripts:
 *   npm run -s token -- --user alice [--password X]   password grant (password defaults to the username)
 *   npm run -s token -- --client                      client credentials grant
 * Options: --client-id ID --client-secret S (default api-client / api-client-secret),
 *          --id-token | --refresh-token to print that token instead of the access token.
 * The token endpoint is found through discovery of $KEYCLOAK_ISSUER (default http://localhost:8080/realms/demo).
 */
import { parseArgs } from "node:util";
import { discoveryUrl } from "../lib/keys/discovery.js";

const DEFAULT_ISSUER = "http://localhost:8080/realms/demo";

class UsageError extends Error {}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: "string" },
      password: { type: "string" },
      client: { type: "boolean", default: false },
      "client-id": { type: "string", default: "api-client" },
      "client-secret": { type: "string", default: "api-client-secret" },
      "id-token": { type: "boolean", default: false },
      "refresh-token": { type: "boolean", default: false },
    },
    strict: true,
  });
  if ((values.user === undefined) === !values.client) {
    throw new UsageError("give exactly one of --user NAME or --client");
  }
  if (values["id-token"] && values["refresh-token"]) throw new UsageError("--id-token and --refresh-token exclude each other");
  return values;
}

async function fetchJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    throw new Error(`cannot reach ${url}${cause}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const issuer = (process.env.KEYCLOAK_ISSUER ?? DEFAULT_ISSUER).replace(/\/$/, "");

  const discovery = await fetchJson(discoveryUrl(issuer));
  const tokenEndpoint = discovery.body.token_endpoint;
  if (discovery.status !== 200 || typeof tokenEndpoint !== "string") {
    throw new Error(`discovery of ${issuer} failed (HTTP ${discovery.status})`);
  }

  const form = new URLSearchParams();
  if (opts.client) {
    form.set("grant_type", "client_credentials");
  } else {
    const user = opts.user ?? "";
    form.set("grant_type", "password");
    form.set("username", user);
    form.set("password", opts.password ?? user);
    // openid makes Keycloak return an ID token as well.
    form.set("scope", "openid");
  }
  const clientId = opts["client-id"];
  const secret = opts["client-secret"];
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64");

  const { status, body } = await fetchJson(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
    body: form,
  });
  if (status !== 200) {
    const description = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
    throw new Error(`token request failed (HTTP ${status}) ${String(body.error ?? "unknown_error")}${description}`);
  }

  const field = opts["id-token"] ? "id_token" : opts["refresh-token"] ? "refresh_token" : "access_token";
  const token = body[field];
  if (typeof token !== "string") throw new Error(`the token response has no ${field}`);
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`token: ${message}\n`);
  if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
    process.stderr.write(
      "usage: npm run -s token -- (--user NAME [--password X] | --client) [--client-id ID] [--client-secret S] [--id-token | --refresh-token]\n",
    );
  }
  process.exit(1);
});
