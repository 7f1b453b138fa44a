/** Settings that more than one function reads: one definition each, so they cannot drift apart. */
import { ConfigError } from "../errors.js";
import { integer, list, text, type Env, type Setting } from "./settings.js";
import { trustedIssuersSetting } from "./trusted-issuers.js";

export const REALMS_ALLOW = list("KEYCLOAK_REALMS_ALLOW", {
  doc: "when set, only these realm names are trusted (for `{realm}` patterns and exact issuers alike)",
});
export const REALMS_DENY = list("KEYCLOAK_REALMS_DENY", { doc: "realm names never trusted, e.g. `master`" });

/** `KEYCLOAK_ISSUER`, parsed into the trusted issuers (lib/config/trusted-issuers.ts). */
export const ISSUERS = trustedIssuersSetting({ allow: REALMS_ALLOW, deny: REALMS_DENY });

export const CLOCK_SKEW_SECONDS = integer("KEYCLOAK_CLOCK_SKEW_SECONDS", {
  doc: "leeway for `exp`, `nbf` and `iat`; the protected handler re-checks `exp` with the same leeway",
  fallback: 30,
  min: 0,
  max: 60,
  unit: "s",
});

const AUTH_REALM_NAME = text("AUTH_REALM", {
  doc: "the realm named in `WWW-Authenticate` challenges; by default the last path segment of the first `KEYCLOAK_ISSUER` (required when that is a `{realm}` pattern)",
});

/** `AUTH_REALM`, else the first issuer's last path segment (`.../realms/demo` -> `demo`). */
export const AUTH_REALM: Setting<string> = {
  name: AUTH_REALM_NAME.name,
  doc: AUTH_REALM_NAME.doc,
  shown: "from `KEYCLOAK_ISSUER`",
  read(env: Env) {
    const first = env.KEYCLOAK_ISSUER?.split(",")[0]?.trim().replace(/\/+$/, "");
    const realm = AUTH_REALM_NAME.read(env) ?? first?.split("/").pop();
    if (realm === "{realm}")
      throw new ConfigError("AUTH_REALM is required when KEYCLOAK_ISSUER starts with a {realm} pattern: the realm name of WWW-Authenticate challenges");
    if (realm === undefined || realm === "")
      throw new ConfigError("AUTH_REALM (or KEYCLOAK_ISSUER) is required: the realm name used in WWW-Authenticate, e.g. demo");
    return realm;
  },
};

/** `KEYCLOAK_ISSUER` read as text only: the protected handlers need it for nothing but the realm's name. */
export const ISSUER_TEXT = text("KEYCLOAK_ISSUER", {
  doc: "the authorizer's trusted issuers (the same value); here only to name the realm when `AUTH_REALM` is not set",
  required: true,
  example: "https://keycloak.example.com/realms/demo",
});
