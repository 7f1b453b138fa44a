/**
 * The authorizer's DPoP (RFC 9449) settings: whether DPoP-bound tokens are accepted (with a proof
 * per request) or even required, which proof algorithms are allowed, how old a proof may be, and
 * how many proof ids one instance remembers against replay. Spread into AUTHORIZER_SETTINGS, read
 * once at cold start; infra/dpop.cjs reads the same records to wire API Gateway to match.
 */
import { ConfigError } from "../errors.js";
import { integer, list, text, type Setting } from "./settings.js";

/** `off`: DPoP-bound tokens and the DPoP scheme are refused; `allowed`: both schemes; `required`: DPoP only. */
export const DPOP_MODES = ["off", "allowed", "required"] as const;
export type DpopMode = (typeof DPOP_MODES)[number];

/**
 * Algorithms a proof may be signed with: the asymmetric ones the authorizer can verify (never none,
 * never HS*). `Ed25519` and `Ed448` are RFC 9864's fully-specified names for EdDSA on one curve,
 * which newer clients (panva's `dpop`, `oauth4webapi`) write for Ed25519 keys.
 */
export const DPOP_ALGORITHMS = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519", "Ed448"] as const;

export const DPOP_SETTINGS = {
  dpop: dpopMode(),
  dpopAlgorithms: list("KEYCLOAK_DPOP_ALGORITHMS", {
    doc: `the \`alg\` allow-list for DPoP proofs (advertised as \`algs\` in challenges), a subset of ${DPOP_ALGORITHMS.join(", ")}`,
    fallback: DPOP_ALGORITHMS,
    allowed: DPOP_ALGORITHMS,
  }),
  dpopProofMaxAgeSeconds: integer("KEYCLOAK_DPOP_PROOF_MAX_AGE_SECONDS", {
    doc: "how old a DPoP proof (`iat`) may be, plus `KEYCLOAK_CLOCK_SKEW_SECONDS` either side; its `jti` is remembered that long",
    fallback: 120,
    min: 5,
    max: 600,
    unit: "s",
  }),
  dpopReplayCacheSize: integer("KEYCLOAK_DPOP_REPLAY_CACHE_SIZE", {
    doc: "DPoP proof ids (`jti`) one instance remembers within the proof window; when all are live, new proofs get a 500 rather than an unchecked pass",
    fallback: 100_000,
    min: 100,
    max: 2_000_000,
  }),
} as const;

function dpopMode(): Setting<DpopMode> {
  const setting = text("KEYCLOAK_DPOP", {
    doc: "DPoP-bound tokens (RFC 9449): `off` refuses them and the `DPoP` scheme; `allowed` takes them with a valid proof per request, Bearer tokens too; `required` takes only DPoP. Not `off` turns API Gateway's result cache off (see docs/dpop.md)",
    fallback: "off",
  });
  return {
    ...setting,
    read(env) {
      const value = setting.read(env);
      if (!(DPOP_MODES as readonly string[]).includes(value)) {
        throw new ConfigError(`KEYCLOAK_DPOP must be one of ${DPOP_MODES.join(", ")}, got "${value}"`);
      }
      return value as DpopMode;
    },
  };
}
