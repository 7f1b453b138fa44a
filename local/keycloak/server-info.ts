/**
 * Which Keycloak answers at an issuer. Keycloak publishes its version only to administrators, so
 * this logs in to the master realm's admin-cli client with the bootstrap admin (KEYCLOAK_ADMIN /
 * KEYCLOAK_ADMIN_PASSWORD, admin/admin by default, as `npm run keycloak` and docker-compose.yml
 * set it up) and reads `systemInfo.version` from the Admin REST API's server info.
 */
import type { AdminCredentials } from "./server.js";

export type ServerVersion = { readonly version: string } | { readonly unknown: string };

/** `http://localhost:8080` for `http://localhost:8080/realms/demo` (Keycloak 17+ has no /auth). */
export function keycloakBaseUrl(issuer: string): string {
  return issuer.replace(/\/realms\/[^/]+\/?$/, "");
}

export async function keycloakServerVersion(issuer: string, admin: AdminCredentials, timeoutMs = 3000): Promise<ServerVersion> {
  const base = keycloakBaseUrl(issuer);
  try {
    const login = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: admin.username, password: admin.password }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (login.status === 404) return { unknown: "no master realm at this address" };
    if (!login.ok) return { unknown: `the admin login as "${admin.username}" was refused (${login.status}); set KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD` };
    const { access_token: token } = (await login.json()) as { access_token?: unknown };
    if (typeof token !== "string") return { unknown: "the admin login gave no access token" };
    const info = await fetch(`${base}/admin/serverinfo`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    if (!info.ok) return { unknown: `the server info answered ${info.status}` };
    const version = ((await info.json()) as { systemInfo?: { version?: unknown } }).systemInfo?.version;
    return typeof version === "string" ? { version } : { unknown: "the server info names no version" };
  } catch (error) {
    return { unknown: `cannot ask it (${error instanceof Error ? error.message : String(error)})` };
  }
}
