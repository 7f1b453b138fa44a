/** Settings that more than one function reads: one definition each, so they cannot drift apart. */
import { ConfigError } from "../errors.js";
import { integer, text, url, type Env, type Setting } from "./settings.js";

export const ISSUER = url("KEYCLOAK_ISSUER", {
  doc: "the realm's exact `iss`; discovery is `<issuer>/.well-known/openid-configuration`, whose `issuer` must equal it",
  required: true,
  example: "https://keycloak.example.com/realms/demo",
});

export const CLOCK_SKEW_SECONDS = integer("KEYCLOAK_CLOCK_SKEW_SECONDS", {
  doc: "leeway for `exp`, `nbf` and `iat`; the protected handler re-checks `exp` with the same leeway",
  fallback: 30,
  min: 0,
  max: 60,
  unit: "s",
});

const AUTH_REALM_NAME = text("AUTH_REALM", { doc: "the realm named in `WWW-Authenticate` challenges; by default the last path segment of `KEYCLOAK_ISSUER`" });

/** `AUTH_REALM`, else the issuer's last path segment (`.../realms/demo` -> `demo`). */
export const AUTH_REALM: Setting<string> = {
  name: AUTH_REALM_NAME.name,
  doc: AUTH_REALM_NAME.doc,
  shown: "from `KEYCLOAK_ISSUER`",
  read(env: Env) {
    const realm = AUTH_REALM_NAME.read(env) ?? env.KEYCLOAK_ISSUER?.trim().replace(/\/+$/, "").split("/").pop();
    if (realm === undefined || realm === "")
      throw new ConfigError("AUTH_REALM (or KEYCLOAK_ISSUER) is required: the realm name used in WWW-Authenticate, e.g. demo");
    return realm;
  },
};
