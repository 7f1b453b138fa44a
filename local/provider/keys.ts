/**
 * Key material for the local provider. Keys are generated at start-up and live only in memory, so
 * nothing secret is ever committed. Like a fresh Keycloak realm, the key set has one RS256 signing
 * key and one RSA-OAEP encryption key; plus, when a client signs its access tokens with ES256
 * (client attribute `access.token.signed.response.alg`), an ES256 key, as Keycloak adds a
 * fallback ES256 key to the realm the first time one is needed.
 */
import { createHash, createPrivateKey, generateKeyPair, randomUUID, sign, type JsonWebKey } from "node:crypto";
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

/** A private P-256 JWK for ES256 access tokens. */
interface EcPrivateJwk extends JWK {
  kid: string;
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  use: "sig";
  alg: "ES256";
}

async function ecJwk(): Promise<EcPrivateJwk> {
  const { privateKey } = await promisify(generateKeyPair)("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" }) as JWK;
  const { x, y } = jwk;
  if (!x || !y) throw new Error("EC key export lacks x or y");
  const kid = await calculateJwkThumbprint({ kty: "EC", crv: "P-256", x, y });
  return { ...jwk, kty: "EC", crv: "P-256", x, y, kid, use: "sig", alg: "ES256" };
}

/** A signing key as a Keycloak key provider holds it: a priority, and active (signs) or passive (verifies only). */
interface SigningKey {
  readonly jwk: PrivateJwk;
  readonly priority: number;
  active: boolean;
}

/**
 * The realm's keys, managed the way Keycloak manages key providers: new tokens are signed with the
 * active signing key of the highest priority; passive keys are published (tokens they signed still
 * verify) but sign nothing; a deleted key is gone from the JWKS. Plus the encryption key.
 */
export class KeyRing {
  private constructor(
    private signing: SigningKey[],
    private readonly encryption: PrivateJwk,
    private readonly ecdsa: EcPrivateJwk | undefined,
  ) {}

  static async generate(options: { es256?: boolean } = {}): Promise<KeyRing> {
    const [sig, enc, ec] = await Promise.all([rsaJwk("sig", "RS256"), rsaJwk("enc", "RSA-OAEP"), options.es256 === true ? ecJwk() : undefined]);
    // Keycloak's generated realm keys have priority 100.
    return new KeyRing([{ jwk: sig, priority: 100, active: true }], enc, ec);
  }

  /** Signing keys in the order oidc-provider needs: it signs with the first RS256 key it finds. */
  private ordered(): SigningKey[] {
    return [...this.signing].sort((a, b) => Number(b.active) - Number(a.active) || b.priority - a.priority);
  }

  get activeSigningKid(): string {
    const [first] = this.ordered();
    if (!first?.active) throw new Error("no active signing key");
    return first.jwk.kid;
  }

  /** A fresh signing key with a priority above every other: later tokens are signed with it. Its kid. */
  async add(): Promise<string> {
    const jwk = await rsaJwk("sig", "RS256");
    const priority = Math.max(0, ...this.signing.map((key) => key.priority)) + 100;
    this.signing.push({ jwk, priority, active: true });
    return jwk.kid;
  }

  /** Adds a fresh signing key in front; the previous ones remain for verification only. */
  async rotate(): Promise<void> {
    const kid = await this.add();
    for (const key of this.signing) if (key.jwk.kid !== kid) key.active = false;
  }

  /** Passive (false): stays published, signs nothing. */
  setActive(kid: string, active: boolean): void {
    this.find(kid).active = active;
  }

  remove(kid: string): void {
    this.find(kid);
    this.signing = this.signing.filter((key) => key.jwk.kid !== kid);
  }

  private find(kid: string): SigningKey {
    const key = this.signing.find((candidate) => candidate.jwk.kid === kid);
    if (key === undefined) throw new Error(`no signing key ${kid}`);
    return key;
  }

  /** Private key set for oidc-provider; it publishes only the public parts at the certs endpoint. */
  toPrivateJwks(): { keys: JWK[] } {
    return { keys: [...this.ordered().map((key) => key.jwk), ...(this.ecdsa === undefined ? [] : [this.ecdsa]), this.encryption].map((k) => ({ ...k })) };
  }

  /**
   * An ID token as Keycloak writes it: `typ: JWT` in the header (`alg`, `typ`, `kid`, Keycloak's
   * order), and the claims Keycloak always adds and oidc-provider may not: `jti`, `azp`, `acr`,
   * `at_hash` of the access token issued with it, and that token's `auth_time` (browser logins). Signed again by the key its `kid` names; the
   * other claims are left as they were.
   */
  reshapeIdToken(idToken: string, accessToken: string | undefined): string {
    const [header = "", payload = ""] = idToken.split(".");
    const { alg, kid, ...rest } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: string; kid?: string };
    if (alg !== "RS256" || kid === undefined) return idToken;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    const atHash = accessToken === undefined ? undefined : createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url");
    let access: Record<string, unknown> = {};
    try {
      access = JSON.parse(Buffer.from(accessToken?.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      // not a JWT: nothing to take from it
    }
    const reshaped = {
      ...claims,
      ...(claims.auth_time === undefined && typeof access.auth_time === "number" ? { auth_time: access.auth_time } : {}),
      jti: claims.jti ?? randomUUID(),
      ...(claims.azp === undefined && typeof claims.aud === "string" ? { azp: claims.aud } : {}),
      ...(claims.at_hash === undefined && atHash !== undefined ? { at_hash: atHash } : {}),
      acr: claims.acr ?? "1",
    };
    const key = this.find(kid).jwk;
    const input = `${Buffer.from(JSON.stringify({ alg, typ: "JWT", kid, ...rest })).toString("base64url")}.${Buffer.from(JSON.stringify(reshaped)).toString("base64url")}`;
    const signature = sign("RSA-SHA256", Buffer.from(input), createPrivateKey({ key: key as unknown as JsonWebKey, format: "jwk" }));
    return `${input}.${signature.toString("base64url")}`;
  }

  /** A JWT of the realm (a logout token, say) signed with the active key: header `alg`, `typ`, `kid`, in Keycloak's order. */
  sign(typ: string, claims: Record<string, unknown>): string {
    const key = this.find(this.activeSigningKid).jwk;
    const input = `${Buffer.from(JSON.stringify({ alg: "RS256", typ, kid: key.kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    const signature = sign("RSA-SHA256", Buffer.from(input), createPrivateKey({ key: key as unknown as JsonWebKey, format: "jwk" }));
    return `${input}.${signature.toString("base64url")}`;
  }

  /** Public signing keys, for verifying our own access tokens at the userinfo endpoint. */
  publicSigningJwks(): { keys: JWK[] } {
    const ec = this.ecdsa === undefined ? [] : [(({ kty, kid, use, alg, crv, x, y }) => ({ kty, kid, use, alg, crv, x, y }))(this.ecdsa)];
    return {
      keys: [...this.ordered().map(({ jwk: { kty, kid, use, alg, n, e } }) => ({ kty, kid, use, alg, n, e })), ...ec],
    };
  }
}
