/**
 * Key material for the local provider. Keys are generated at start-up and live only in memory, so
 * nothing secret is ever committed. Like a fresh Keycloak realm, the key set has one RS256 signing
 * key and one RSA-OAEP encryption key.
 */
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { calculateJwkThumbprint, type JWK } from "jose";

const generateRsa = promisify(generateKeyPair);

/** A private JWK as oidc-provider's `jwks` configuration wants it. */
export interface PrivateJwk extends JWK {
  kid: string;
  e: string;
  n: string;
  kty: "RSA";
  use: "sig" | "enc";
  alg: "RS256" | "RSA-OAEP";
}

async function rsaJwk(use: PrivateJwk["use"], alg: PrivateJwk["alg"]): Promise<PrivateJwk> {
  const { privateKey } = await generateRsa("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" }) as JWK;
  const { e, n } = jwk;
  if (!e || !n) throw new Error("RSA key export lacks e or n");
  // RFC 7638 thumbprint: unique per key, and stable for the key's lifetime like Keycloak's kids.
  const kid = await calculateJwkThumbprint({ kty: "RSA", e, n });
  return { ...jwk, e, n, kty: "RSA", kid, use, alg };
}

/**
 * Signing keys newest first (oidc-provider signs with the first RS256 key it finds), plus the
 * encryption key. Retired signing keys stay published so tokens issued before a rotation still verify,
 * which is what Keycloak does with a passive key.
 */
export class KeyRing {
  private constructor(
    private signing: PrivateJwk[],
    private readonly encryption: PrivateJwk,
  ) {}

  static async generate(): Promise<KeyRing> {
    const [sig, enc] = await Promise.all([rsaJwk("sig", "RS256"), rsaJwk("enc", "RSA-OAEP")]);
    return new KeyRing([sig], enc);
  }

  get activeSigningKid(): string {
    const [active] = this.signing;
    if (!active) throw new Error("no signing key");
    return active.kid;
  }

  /** Adds a fresh signing key in front; the previous ones remain for verification only. */
  async rotate(): Promise<void> {
    this.signing = [await rsaJwk("sig", "RS256"), ...this.signing];
  }

  /** Private key set for oidc-provider; it publishes only the public parts at the certs endpoint. */
  toPrivateJwks(): { keys: PrivateJwk[] } {
    return { keys: [...this.signing, this.encryption].map((k) => ({ ...k })) };
  }

  /** Public signing keys, for verifying our own access tokens at the userinfo endpoint. */
  publicSigningJwks(): { keys: JWK[] } {
    return {
      keys: this.signing.map(({ kty, kid, use, alg, n, e }) => ({ kty, kid, use, alg, n, e })),
    };
  }
}
