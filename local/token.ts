/**
 * Prints one token from Keycloak (or the local provider) for use in curl and scripts:
 *   npm run -s token -- --user alice [--password X]   password grant (password defaults to the username)
 *   npm run -s token -- --client                      client credentials grant
 * Options: --client-id ID --client-secret S (default api-client / api-client-secret),
 *          --id-token | --refresh-token to print that token instead of the access token.
 * The token endpoint is found through discovery of $KEYCLOAK_ISSUER (default http://localhost:8080/realms/demo).
 */
import { parseArgs } from "node:util";
import { DEMO_CLIENT, requestTokens } from "./token-request.js";

const DEFAULT_ISSUER = "http://localhost:8080/realms/demo";

class UsageError extends Error {}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: "string" },
      password: { type: "string" },
      client: { type: "boolean", default: false },
      "client-id": { type: "string", default: DEMO_CLIENT.id },
      "client-secret": { type: "string", default: DEMO_CLIENT.secret },
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

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const issuer = (process.env.KEYCLOAK_ISSUER ?? DEFAULT_ISSUER).replace(/\/$/, "");
  const body = await requestTokens(issuer, {
    grant: opts.client ? "client_credentials" : "password",
    ...(opts.user === undefined ? {} : { user: opts.user }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
    clientId: opts["client-id"],
    clientSecret: opts["client-secret"],
  });
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
