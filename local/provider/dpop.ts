/**
 * DPoP proofs at the token endpoint for grants of our own (the password grant): oidc-provider's own
 * validation (the same one its built-in grants use: `typ`, `alg`, `jwk`, `htm`, `htu`, `iat`, replay),
 * which its public API does not export, loaded from the package's helper module.
 */
import type { KoaContextWithOIDC } from "oidc-provider";
import { errors, type Provider } from "./oidc-provider.js";

interface DpopResult {
  readonly thumbprint: string;
  readonly jti: string;
  readonly iat: number;
}

interface DpopHelpers {
  default(provider: Provider, ctx: KoaContextWithOIDC, accessToken?: string): Promise<DpopResult | undefined>;
  checkDpopReplay(provider: Provider, ctx: KoaContextWithOIDC, dPoP: DpopResult, clientId: string): Promise<void>;
}

const helpers = (await import("oidc-provider/lib/helpers/validate_dpop.js" as string)) as DpopHelpers;

/**
 * The thumbprint of the request's valid DPoP proof (its replay checked), undefined without one;
 * throws oidc-provider's errors for a bad proof, or for none where the client requires DPoP.
 */
export async function dpopThumbprint(provider: Provider, ctx: KoaContextWithOIDC): Promise<string | undefined> {
  const client = ctx.oidc.client;
  const dPoP = await helpers.default(provider, ctx);
  if (dPoP === undefined) {
    if (client?.dpopBoundAccessTokens === true) throw new errors.InvalidGrant("DPoP proof JWT not provided");
    return undefined;
  }
  await helpers.checkDpopReplay(provider, ctx, dPoP, client?.clientId ?? "");
  return dPoP.thumbprint;
}
