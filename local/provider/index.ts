/**
 * A local stand-in for Keycloak: a real OpenID provider (oidc-provider) configured only from a Keycloak
 * realm export and served at Keycloak's URLs, so code written against Keycloak runs unchanged without
 * Docker. See configuration.ts for the mapping and token-claims.ts for the token shape.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Client } from "oidc-provider";
import { Accounts } from "./accounts.js";
import { originAllowed, uriMatches } from "./clients.js";
import { ACCESS_TOKEN_ALG, buildConfiguration, REALM_RESOURCE, resourceServerInfo, ROUTES } from "./configuration.js";
import { handleInteraction } from "./interactions.js";
import { KeyRing } from "./keys.js";
import { sendBackchannelLogouts } from "./backchannel-logout.js";
import { handleRefreshTokenLogout } from "./logout.js";
import { registerPasswordGrant } from "./password-grant.js";
import { MemoryStore } from "./memory-store.js";
import { Provider } from "./oidc-provider.js";
import { loadRealm, type Realm } from "./realm.js";
import { effectiveScopes } from "./scopes.js";
import { keycloakTokenEndpoint } from "./token-endpoint.js";
import { handleIntrospection } from "./introspection.js";
import { handleUserinfo } from "./userinfo.js";

export const DEFAULT_ISSUER = "http://localhost:8080/realms/demo";
export const DEFAULT_REALM_FILE = fileURLToPath(new URL("../../keycloak/realm-demo.json", import.meta.url));

export interface StartProviderOptions {
  realmFile?: string;
  /** More realms served beside it on the same server, at `<origin>/realms/<name>` (realm files). */
  extraRealmFiles?: readonly string[];
  /** Fixed issuer (like KC_HOSTNAME); by default `http://localhost:<port>/realms/<realm>`. */
  issuer?: string;
  /** 0 picks a free port. Defaults to the issuer's port, else 8080. */
  port?: number;
  host?: string;
}

export interface RunningProvider {
  issuer: string;
  port: number;
  /** Every realm served, by name, with its issuer. */
  readonly realms: ReadonlyMap<string, string>;
  close(): Promise<void>;
  /** Signs later tokens with a fresh key (new kid); earlier keys stay in the JWKS for verification. */
  rotateSigningKey(): Promise<void>;
  /** The realm's signing keys, changed the way Keycloak's key providers are (see keys.ts). */
  readonly signingKeys: {
    /** The kid new tokens are signed with. */
    active(): string;
    /** A new key above every other in priority; its kid. */
    add(): Promise<string>;
    /** false: passive (published, signs nothing); true: active again. */
    setActive(kid: string, active: boolean): void;
    /** Deleted, from the JWKS too. */
    remove(kid: string): void;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

/**
 * Keycloak adds a client's default client scopes to every authorization request. oidc-provider only
 * grants what is asked for, so the request's `scope` is widened before oidc-provider sees it.
 */
function withDefaultScopes(realm: Realm, url: URL): void {
  const client = realm.client(url.searchParams.get("client_id") ?? "");
  const requested = url.searchParams.get("scope");
  if (!client || requested === null) return;
  const scopes = new Set(requested.split(" ").filter(Boolean));
  for (const scope of effectiveScopes(client, scopes)) scopes.add(scope);
  url.searchParams.set("scope", [...scopes].join(" "));
}

/** One realm served under `<origin>/realms/<name>`: its own oidc-provider, keys, sessions and store. */
interface RealmApp {
  readonly realm: Realm;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  rotateSigningKey(): Promise<void>;
  readonly signingKeys: RunningProvider["signingKeys"];
}

async function createRealmApp(realm: Realm, issuer: string): Promise<RealmApp> {
  const issuerUrl = new URL(issuer);
  const accounts = new Accounts(realm);
  // Keycloak adds an ES256 key to a realm whose client asks for ES256 access tokens.
  const keys = await KeyRing.generate({ es256: realm.clients.some((client) => client.attributes?.[ACCESS_TOKEN_ALG] === "ES256") });
  // Cookie signing keys only need to outlive the process, like the tokens themselves.
  const cookieKeys = [randomBytes(32).toString("base64url")];
  // One store for the provider's lifetime: key rotation swaps provider instances, not sessions.
  const store = new MemoryStore();
  // Session ids ended by a logout: userinfo refuses their access tokens, as Keycloak's does.
  const endedSessions = new Set<string>();
  // The full claims of lightweight access tokens, by jti, for introspection: the most recent ones.
  const lightweightClaims = new Map<string, Record<string, unknown>>();
  const rememberLightweight = (jti: string, claims: Record<string, unknown>): void => {
    if (lightweightClaims.size >= 10_000) lightweightClaims.delete(lightweightClaims.keys().next().value as string);
    lightweightClaims.set(jti, claims);
  };
  let provider: Provider | undefined;
  let callback: ReturnType<Provider["callback"]> | undefined;
  const backchannel = { issuer: () => issuer, realm, keys };
  const build = (): void => {
    const config = buildConfiguration({
      realm,
      accounts,
      keys,
      cookieKeys,
      interactionsPath: `${issuerUrl.pathname}/login-actions`,
      rememberLightweight,
    });
    config.adapter = store.adapterFactory();
    const next = new Provider(issuer, config);
    // The forwarded headers below are set by this server itself, so trusting them is safe.
    next.proxy = true;
    // Keycloak allows `*` at the end of registered (post logout) redirect URIs; oidc-provider matches exactly.
    next.Client.prototype.redirectUriAllowed = function redirectUriAllowed(this: Client, uri: string): boolean {
      return uriMatches(this.redirectUris ?? [], uri);
    };
    next.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(this: Client, uri: string): boolean {
      return uriMatches(this.postLogoutRedirectUris ?? [], uri);
    };
    // Keycloak puts the session id (`sid`) in every user token; oidc-provider only for back-channel logout clients.
    next.Client.prototype.includeSid = () => true;
    // The browser's end-session request: oidc-provider calls this for each client of the session
    // that has a back-channel logout URI; the logout token is Keycloak's (backchannel-logout.ts).
    next.Client.prototype.backchannelLogout = async function backchannelLogout(this: Client, sub: string, sid: string): Promise<void> {
      endedSessions.add(sid);
      await sendBackchannelLogouts(backchannel, { sub, sid, clientIds: [this.clientId] });
    };
    // Token responses, errors and ID tokens as Keycloak's (token-endpoint.ts).
    keycloakTokenEndpoint(next, { reshapeIdToken: (idToken, accessToken) => keys.reshapeIdToken(idToken, accessToken) });
    registerPasswordGrant(next, {
      realm,
      accounts,
      resource: REALM_RESOURCE,
      resourceServerInfo: (clientId) => resourceServerInfo(realm, clientId),
    });
    provider = next;
    callback = next.callback();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!provider || !callback) {
      sendJson(res, 503, { error: "temporarily_unavailable" });
      return;
    }
    const base = issuerUrl.pathname;
    // Like Keycloak with a fixed KC_HOSTNAME, every URL the provider emits uses the issuer's origin.
    req.headers["x-forwarded-host"] = issuerUrl.host;
    req.headers["x-forwarded-proto"] = issuerUrl.protocol.slice(0, -1);

    const rest = url.pathname.slice(base.length) || "/";
    if (rest === ROUTES.end_session && req.method === "POST") {
      await handleRefreshTokenLogout(
        {
          realm,
          provider: () => provider as Provider,
          endSession: async (sid, sub, clientIds) => {
            endedSessions.add(sid);
            await sendBackchannelLogouts(backchannel, { sub, sid, clientIds });
          },
        },
        req,
        res,
      );
      return;
    }
    if (rest === ROUTES.introspection) {
      await handleIntrospection(
        {
          issuer,
          realm,
          signingKeys: () => keys.publicSigningJwks(),
          sessionEnded: (sid) => endedSessions.has(sid),
          fullClaims: (jti) => lightweightClaims.get(jti),
        },
        req,
        res,
      );
      return;
    }
    if (rest === ROUTES.userinfo) {
      await handleUserinfo(
        {
          issuer,
          realm,
          signingKeys: () => keys.publicSigningJwks(),
          sessionEnded: (sid) => endedSessions.has(sid),
          corsOrigin: (clientId, origin) => {
            const client = realm.client(clientId);
            return client !== undefined && originAllowed(client, origin);
          },
        },
        req,
        res,
      );
      return;
    }
    if (rest.startsWith("/login-actions/")) {
      await handleInteraction(provider, { realmName: realm.name, accounts, path: (uid) => `${base}/login-actions/${uid}` }, req, res);
      return;
    }
    if (rest === ROUTES.authorization && req.method === "GET") withDefaultScopes(realm, url);

    // Mounted under the issuer path: oidc-provider derives its mount path from originalUrl vs url.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = `${url.pathname}${url.search}`;
    req.url = `${rest}${url.search}`;
    await callback(req, res);
  };

  build();
  return {
    realm,
    handle,
    async rotateSigningKey() {
      await keys.rotate();
      // oidc-provider's key set is fixed per instance, so swap in a new instance. Its grants, sessions
      // and refresh tokens live in `store`, which carries over.
      build();
    },
    signingKeys: {
      active: () => keys.activeSigningKid,
      async add() {
        const kid = await keys.add();
        build();
        return kid;
      },
      setActive(kid, active) {
        keys.setActive(kid, active);
        build();
      },
      remove(kid) {
        keys.remove(kid);
        build();
      },
    },
  };
}

export async function startProvider(opts: StartProviderOptions = {}): Promise<RunningProvider> {
  const realm = await loadRealm(opts.realmFile ?? DEFAULT_REALM_FILE);
  const extra = await Promise.all((opts.extraRealmFiles ?? []).map((file) => loadRealm(file)));
  const host = opts.host ?? "127.0.0.1";
  const fixedIssuer = opts.issuer?.replace(/\/$/, "");
  const port = opts.port ?? (fixedIssuer ? Number(new URL(fixedIssuer).port || 80) : 8080);
  const apps = new Map<string, RealmApp>();
  let origin = "";

  // Keycloak's URL layout: every realm under /realms/<name>; anything else does not exist.
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", origin);
    const app = apps.get(decodeURIComponent(/^\/realms\/([^/]+)/.exec(url.pathname)?.[1] ?? ""));
    if (app === undefined) {
      sendJson(res, 404, { error: "Realm does not exist" });
      return;
    }
    await app.handle(req, res, url);
  };
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const issuer = fixedIssuer ?? `http://localhost:${actualPort}/realms/${realm.name}`;
  origin = new URL(issuer).origin;
  const issuerPath = new URL(issuer).pathname.replace(/\/realms\/[^/]+$/, "");
  try {
    for (const served of [realm, ...extra]) {
      if (apps.has(served.name)) throw new Error(`realm ${served.name} is served twice`);
      apps.set(served.name, await createRealmApp(served, served === realm ? issuer : `${origin}${issuerPath}/realms/${served.name}`));
    }
  } catch (error) {
    server.close();
    throw error;
  }
  const primary = apps.get(realm.name) as RealmApp;

  return {
    issuer,
    port: actualPort,
    realms: new Map([...apps.values()].map((app) => [app.realm.name, `${origin}${issuerPath}/realms/${app.realm.name}`])),
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
    rotateSigningKey: () => primary.rotateSigningKey(),
    signingKeys: primary.signingKeys,
  };
}
