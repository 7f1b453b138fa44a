/**
 * Users of the realm as oidc-provider accounts, and the Keycloak-shaped claims they contribute to
 * ID tokens, userinfo and access tokens.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { Account, AccountClaims, FindAccount } from "oidc-provider";
import type { Realm, UserRepresentation } from "./realm.js";

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time regardless of the lengths.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Claims of Keycloak's `profile` and `email` scopes (its default user attribute mappers). */
export function profileClaims(user: UserRepresentation): Record<string, unknown> {
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ");
  return {
    ...(name ? { name } : {}),
    preferred_username: user.username.toLowerCase(),
    ...(user.firstName ? { given_name: user.firstName } : {}),
    ...(user.lastName ? { family_name: user.lastName } : {}),
  };
}

export function emailClaims(user: UserRepresentation): Record<string, unknown> {
  return {
    email_verified: user.emailVerified === true,
    ...(user.email ? { email: user.email.toLowerCase() } : {}),
  };
}

export class Accounts {
  constructor(private readonly realm: Realm) {}

  /** Resource-owner credentials check; `undefined` for unknown, disabled or wrong-password users alike. */
  authenticate(username: string, password: string): UserRepresentation | undefined {
    const user = this.realm.user(username);
    if (!user || user.enabled === false) return undefined;
    const stored = user.credentials?.find((c) => c.type === "password" && typeof c.value === "string");
    if (!stored?.value || !sameSecret(stored.value, password)) return undefined;
    return user;
  }

  byId(sub: string): UserRepresentation | undefined {
    const user = this.realm.userById(sub);
    return user && user.enabled !== false ? user : undefined;
  }

  /** oidc-provider's account hook: claims for ID tokens and the (stock) userinfo response. */
  readonly findAccount: FindAccount = (_ctx, sub) => {
    const user = this.byId(sub);
    if (!user || user.serviceAccountClientId !== undefined) return undefined;
    const account: Account = {
      accountId: sub,
      claims: (use: string): AccountClaims => ({
        sub,
        // Keycloak marks its ID tokens with typ "ID"; userinfo responses carry no typ.
        ...(use === "id_token" ? { typ: "ID" } : {}),
        ...profileClaims(user),
        ...emailClaims(user),
      }),
    };
    return account;
  };
}
