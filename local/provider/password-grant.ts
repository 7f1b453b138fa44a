/**
 * Keycloak's "direct access grant" (OAuth resource owner password credentials). oidc-provider does not
 * ship it, so it is registered as a custom grant that issues tokens through oidc-provider's own models
 * (Grant, AccessToken, RefreshToken, IdToken): they are persisted, refreshable and signed exactly like
 * the tokens of the built-in grants.
 */
import { randomUUID } from "node:crypto";
import type { TokenEndpointGrantContext } from "oidc-provider";
import { errors, type Provider } from "./oidc-provider.js";
import type { Accounts } from "./accounts.js";
import { dpopThumbprint } from "./dpop.js";
import type { Realm } from "./realm.js";
import { effectiveScopes, KNOWN_SCOPES, scopeClaim } from "./scopes.js";
import { userId } from "./realm.js";

interface PasswordParams {
  username?: string;
  password?: string;
}

export interface PasswordGrantDeps {
  realm: Realm;
  accounts: Accounts;
  /** The resource indicator every access token is issued for (see configuration.ts). */
  resource: string;
  resourceServerInfo: (clientId: string) => ConstructorParameters<Provider["ResourceServer"]>[1];
}

export function registerPasswordGrant(provider: Provider, deps: PasswordGrantDeps): void {
  const handler = async (ctx: TokenEndpointGrantContext<PasswordParams>): Promise<void> => {
    const { client, params } = ctx.oidc;
    const realmClient = deps.realm.client(client.clientId);
    if (!realmClient) throw new errors.InvalidClient("client not found");
    if (!params.username || params.password === undefined) {
      throw new errors.InvalidRequest("missing required parameter(s) (username,password)");
    }

    // A DPoP proof binds the access token to the client's key (RFC 9449), as the built-in grants do.
    const jkt = await dpopThumbprint(provider, ctx);
    const user = deps.accounts.authenticate(params.username, params.password);
    // Same answer for unknown users and wrong passwords, as Keycloak gives, so usernames can't be probed:
    // 401 invalid_grant. (oidc-provider's InvalidGrant would replace the description with a generic one.)
    if (!user) throw Object.assign(new errors.CustomOIDCProviderError("invalid_grant", "Invalid user credentials"), { status: 401, statusCode: 401 });
    const accountId = userId(user);

    const scopes = effectiveScopes(realmClient, (params.scope ?? "").split(" ").filter(Boolean));
    const scope = [...scopes].join(" ");

    // Keycloak grants resource owner logins everything the client may have, without consent.
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope(KNOWN_SCOPES.filter((s) => scopes.has(s)));
    grant.addResourceScope(deps.resource, scope);
    const grantId = await grant.save();

    // A Keycloak password login opens a user session; its id is the `sid`/`session_state` clients see.
    const sid = randomUUID();
    const resourceServer = new provider.ResourceServer(deps.resource, deps.resourceServerInfo(client.clientId));

    // What the access and refresh tokens of this login share. There is no oidc-provider browser
    // session to bind them to, so the tokens live on their own TTLs.
    const login = { accountId, client, grantId, gty: "password", scope, sid, expiresWithSession: false } as const;
    const at = new provider.AccessToken({ ...login, resourceServer });
    if (jkt !== undefined) at.setThumbprint("jkt", jkt);
    ctx.oidc.entity("AccessToken", at);
    const accessToken = await at.save();

    let refreshToken: string | undefined;
    let refreshExpiresIn: number | undefined;
    if (client.grantTypeAllowed("refresh_token")) {
      const rt = new provider.RefreshToken({ ...login, resource: deps.resource, rotations: 0 });
      ctx.oidc.entity("RefreshToken", rt);
      refreshToken = await rt.save();
      refreshExpiresIn = rt.expiration;
    }

    let idToken: string | undefined;
    if (scopes.has("openid")) {
      const account = await deps.accounts.findAccount(ctx, accountId);
      if (!account) throw new errors.InvalidGrant("Invalid user credentials");
      const token = new provider.IdToken(await account.claims("id_token", scope, {}, []), { ctx });
      // The IdToken model filters its claims by these scopes (see the `claims` configuration).
      (token as unknown as { scope: string }).scope = scope;
      token.set("sid", sid);
      token.set("azp", client.clientId);
      idToken = await token.issue({ use: "idtoken" });
    }

    // Field set and names as in Keycloak's token response.
    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      ...(refreshToken ? { refresh_expires_in: refreshExpiresIn, refresh_token: refreshToken } : {}),
      token_type: at.tokenType,
      ...(idToken ? { id_token: idToken } : {}),
      "not-before-policy": 0,
      session_state: sid,
      // Keycloak lists only the scopes it shows in tokens (openid, profile, email, ...).
      scope: scopeClaim(scopes),
    };
  };

  provider.registerGrantType<PasswordParams>("password", handler, ["username", "password", "scope"]);
}
