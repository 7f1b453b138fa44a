/**
 * Generators of hostile bearer tokens for property-based tests (fast-check), built around one
 * fixed realm: its published keys, the tokens it genuinely issued, and an attacker's key.
 *
 * The oracle is deliberately simple: a token may only ever be accepted when it is, byte for byte
 * where it matters, one the realm issued (same header and payload segments, same signature bytes).
 * Anything else that is accepted is a forgery.
 */
import { constants, createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import fc from "fast-check";
import { SUPPORTED_ALGORITHMS } from "../../lib/config/authorizer-config.js";
import { accessClaims, b64url, generateRsaKey, TEST_AUDIENCE, type TestKey } from "./tokens.js";

/** A string that must be used as a segment's JSON text exactly as given (malformed JSON, duplicate keys...). */
export interface RawJson {
  readonly raw: string;
}
const raw = (text: string): RawJson => ({ raw: text });
const encodePart = (value: unknown): string =>
  typeof value === "object" && value !== null && "raw" in value && typeof (value as RawJson).raw === "string"
    ? Buffer.from((value as RawJson).raw, "utf8").toString("base64url")
    : b64url(JSON.stringify(value) ?? "null");

export const B64URL_ALPHABET = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"];

/** An ES256 key in the realm's JWKS (Keycloak realms can have ECDSA keys next to RSA ones). */
export function generateEcKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exported = publicKey.export({ format: "jwk" }) as { crv: string; x: string; y: string };
  const kid = randomUUID();
  return { kid, privateKey, jwk: { kid, kty: "EC", alg: "ES256", use: "sig", crv: exported.crv, x: exported.x, y: exported.y } };
}

export interface HostileRealm {
  readonly issuer: string;
  /** The realm's RS256 signing key. */
  readonly rsa: TestKey;
  /** A published ES256 signing key (only the wide allow-list accepts ES256). */
  readonly ec: TestKey;
  /** A published PS256 (RSA-PSS) signing key, as a FAPI-style Keycloak realm has (wide allow-list only). */
  readonly pss: TestKey;
  /** A published RSA-OAEP encryption key: never usable for signatures. */
  readonly enc: TestKey;
  /** A published 1024-bit RSA signing key: refused as too weak. */
  readonly weak: TestKey;
  /** Not published anywhere. */
  readonly attacker: TestKey;
  readonly attackerEc: TestKey;
  /** What the realm's certs endpoint serves. */
  readonly jwks: readonly Record<string, string>[];
  /** Every form of the realm's public key an alg-confusion attacker might use as an HMAC secret. */
  readonly publicKeyForms: readonly (string | Buffer)[];
}

export function createHostileRealm(issuer: string): HostileRealm {
  const rsa = generateRsaKey();
  const ec = generateEcKey();
  const pss = generateRsaKey({ alg: "PS256" });
  const enc = generateRsaKey({ use: "enc" });
  const weak = generateRsaKey({ bits: 1024 });
  const publicKey = createPublicKey(rsa.privateKey);
  const spki = publicKey.export({ type: "spki", format: "pem" }).toString();
  const publicKeyForms: (string | Buffer)[] = [
    spki,
    spki.trim(),
    publicKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKey.export({ type: "spki", format: "der" }),
    JSON.stringify(rsa.jwk),
    JSON.stringify({ e: rsa.jwk.e, kty: "RSA", n: rsa.jwk.n }),
    JSON.stringify({ keys: [rsa.jwk] }),
    rsa.jwk.n as string,
    Buffer.from(rsa.jwk.n as string, "base64url"),
  ];
  return {
    issuer,
    rsa,
    ec,
    pss,
    enc,
    weak,
    attacker: generateRsaKey({ kid: rsa.kid }),
    attackerEc: { ...generateEcKey(), kid: ec.kid },
    jwks: [rsa.jwk, ec.jwk, pss.jwk, enc.jwk, weak.jwk],
    publicKeyForms,
  };
}

/** How a signature segment is produced over `header.payload`. */
export type SignatureSpec =
  | { readonly by: "rsa" | "enc" | "weak" | "attacker"; readonly digest: "sha256" | "sha384" | "sha512" }
  | { readonly by: "ec" | "attacker-ec"; readonly encoding: "ieee-p1363" | "der" }
  /** RSASSA-PSS by the realm's PS256 key (or another RSA key), with a salt of `saltLength` bytes (32 is RFC 7518's for PS256). */
  | { readonly by: "pss"; readonly key: "pss" | "rsa" | "attacker"; readonly saltLength: number }
  /** PKCS #1 v1.5 by the realm's PS256 key: the right key, the wrong signature scheme. */
  | { readonly by: "pss-key-pkcs1" }
  | { readonly by: "hmac"; readonly digest: "sha256" | "sha384" | "sha512"; readonly secret: number }
  | { readonly by: "bytes"; readonly bytes: Uint8Array }
  | { readonly by: "empty" };

export function signature(realm: HostileRealm, spec: SignatureSpec, input: string): string {
  const data = Buffer.from(input);
  const rsaKey = (by: "rsa" | "enc" | "weak" | "attacker"): KeyObject => realm[by].privateKey;
  switch (spec.by) {
    case "rsa":
    case "enc":
    case "weak":
    case "attacker":
      return sign(spec.digest, data, rsaKey(spec.by)).toString("base64url");
    case "ec":
      return sign("sha256", data, { key: realm.ec.privateKey, dsaEncoding: spec.encoding }).toString("base64url");
    case "attacker-ec":
      return sign("sha256", data, { key: realm.attackerEc.privateKey, dsaEncoding: spec.encoding }).toString("base64url");
    case "pss":
      return sign("sha256", data, { key: realm[spec.key].privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength }).toString(
        "base64url",
      );
    case "pss-key-pkcs1":
      return sign("sha256", data, realm.pss.privateKey).toString("base64url");
    case "hmac":
      return createHmac(spec.digest, realm.publicKeyForms[spec.secret % realm.publicKeyForms.length] as string | Buffer)
        .update(data)
        .digest("base64url");
    case "bytes":
      return Buffer.from(spec.bytes).toString("base64url");
    case "empty":
      return "";
  }
}

/** `header.payload.signature` from parts given as objects or as raw JSON text. */
export function compact(realm: HostileRealm, header: unknown, payload: unknown, spec: SignatureSpec): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  return `${input}.${signature(realm, spec, input)}`;
}

export interface GenuineToken {
  readonly token: string;
  readonly alg: "RS256" | "ES256" | "PS256";
  readonly claims: Record<string, unknown>;
}

/**
 * The tokens the realm really issued in this run. `isEquivalent` is the oracle: base64 decoding
 * ignores the spare low bits of a segment's last character and `=` padding, so a mutation can
 * produce a different string that carries exactly the same signature; accepting that is not a
 * forgery. Any other accepted token is.
 */
export class GenuineTokens {
  private readonly signatures = new Map<string, Buffer>();
  readonly all: GenuineToken[] = [];

  constructor(private readonly realm: HostileRealm) {}

  issue(alg: "RS256" | "ES256" | "PS256", claims: Record<string, unknown>, header: Record<string, unknown> = {}): GenuineToken {
    const key = alg === "RS256" ? this.realm.rsa : alg === "ES256" ? this.realm.ec : this.realm.pss;
    const spec: SignatureSpec =
      alg === "RS256" ? { by: "rsa", digest: "sha256" } : alg === "ES256" ? { by: "ec", encoding: "ieee-p1363" } : { by: "pss", key: "pss", saltLength: 32 };
    const token = compact(this.realm, { alg, typ: "JWT", kid: key.kid, ...header }, claims, spec);
    const [h, p, s] = token.split(".") as [string, string, string];
    this.signatures.set(`${h}.${p}`, Buffer.from(s, "base64url"));
    const issued = { token, alg, claims };
    this.all.push(issued);
    return issued;
  }

  isEquivalent(token: string): boolean {
    const parts = token.split(".");
    if (parts.length !== 3) return false;
    const [h, p, s] = parts as [string, string, string];
    const expected = this.signatures.get(`${h}.${p}`);
    return expected !== undefined && /^[A-Za-z0-9_-]+={0,2}$/.test(s) && Buffer.from(s, "base64").equals(expected);
  }

  /** The genuine token this one is equivalent to, if any. */
  original(token: string): GenuineToken | undefined {
    if (!this.isEquivalent(token)) return undefined;
    const prefix = token.split(".").slice(0, 2).join(".");
    return this.all.find((genuine) => genuine.token.startsWith(`${prefix}.`));
  }
}

/** A generated input, printed short in fast-check's counterexample reports (tokens can be 1 MiB). */
export interface TokenCase {
  readonly label: string;
  readonly token: string;
  /** A pristine genuine RS256 token: the verifier must accept it. */
  readonly mustAccept: boolean;
}

export function tokenCase(label: string, token: string, mustAccept = false): TokenCase {
  return {
    label,
    token,
    mustAccept,
    [fc.toStringMethod]: () => `${label} [${token.length} chars] ${JSON.stringify(token.length > 240 ? `${token.slice(0, 240)}...` : token)}`,
  } as TokenCase;
}

// --- building blocks -------------------------------------------------------------------------------

const digests = ["sha256", "sha384", "sha512"] as const;
const nonObjectJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constantFrom(raw("1e999"), raw("-0"), raw('"\\u0000"'), raw("[]"), raw('""')),
);
const malformedJson = (validText: string): fc.Arbitrary<RawJson> =>
  fc.oneof(
    fc.constant(raw(validText.slice(0, -1))), // truncated
    fc.constant(raw(`\uFEFF${validText}`)), // BOM
    fc.constant(raw(validText.replace(/"/g, "'"))), // single quotes
    fc.constant(raw(`${validText.slice(0, -1)},}`)), // trailing comma
    fc.constant(raw(`${validText} x`)), // trailing garbage
    fc.constant(raw(validText.replace(/:/, ':NaN,"_":'))),
    fc.string({ unit: "grapheme", maxLength: 40 }).map(raw),
  );
const b64urlSegment: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 96 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
  fc.jsonValue({ maxDepth: 2 }).map((value) => b64url(JSON.stringify(value) ?? "null")),
  fc.constant(""),
  fc.string({ unit: fc.constantFrom(...B64URL_ALPHABET, "=", "+", "/", "%", " "), maxLength: 60 }),
);
const randomSignature: fc.Arbitrary<SignatureSpec> = fc.oneof(
  fc.uint8Array({ minLength: 256, maxLength: 256 }).map((bytes) => ({ by: "bytes", bytes }) as const),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ by: "bytes", bytes }) as const),
  fc.constant({ by: "empty" } as const),
);
const notSupported = (alg: string): boolean => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg);

/** Claims that the realm would issue, valid for the whole run. */
export function validClaims(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return accessClaims(issuer, { exp: now + 3600, iat: now - 5, ...extra });
}

// --- generators ----------------------------------------------------------------------------------

/** Not a JWT at all, or one whose structure, encoding or JSON is broken. */
export function structuralGarbage(realm: HostileRealm, genuine: GenuineTokens): fc.Arbitrary<TokenCase> {
  const headerObject = { alg: "RS256", typ: "JWT", kid: realm.rsa.kid };
  const headerText = JSON.stringify(headerObject);
  const claimsText = JSON.stringify(validClaims(realm.issuer));
  const someGenuine = fc.constantFrom(...genuine.all);
  return fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 300 }).map((s) => tokenCase("unicode string", s)),
    fc.string({ unit: "binary", maxLength: 300 }).map((s) => tokenCase("binary string", s)),
    fc.string({ unit: fc.constantFrom(...B64URL_ALPHABET, ".", "=", "+", "/"), maxLength: 600 }).map((s) => tokenCase("base64url-ish", s)),
    fc.array(b64urlSegment, { maxLength: 8 }).map((parts) => tokenCase(`${parts.length} random segments`, parts.join("."))),
    fc
      .tuple(
        fc.constantFrom("RSA-OAEP", "RSA-OAEP-256", "dir", "RSA1_5"),
        fc.constantFrom(realm.enc.kid, realm.rsa.kid),
        fc.array(b64urlSegment, { minLength: 4, maxLength: 4 }),
      )
      .map(([alg, kid, rest]) => tokenCase(`five-segment JWE (${alg})`, [b64url({ alg, enc: "A256GCM", kid }), ...rest].join("."))),
    // Parts that are JSON but not objects, signed by the realm so that only their shape is wrong.
    fc
      .tuple(fc.boolean(), nonObjectJson, fc.boolean())
      .map(([headerBad, value, bothBad]) =>
        tokenCase(
          `non-object ${headerBad ? "header" : "payload"}${bothBad ? " and payload" : ""}`,
          compact(realm, headerBad ? value : headerObject, !headerBad || bothBad ? value : validClaims(realm.issuer), { by: "rsa", digest: "sha256" }),
        ),
      ),
    // Not JSON at all (BOM, single quotes, trailing commas...), again under a valid signature.
    fc
      .tuple(fc.boolean(), fc.boolean())
      .chain(([inHeader]) => malformedJson(inHeader ? headerText : claimsText).map((text) => [inHeader, text] as const))
      .map(([inHeader, text]) =>
        tokenCase(
          `malformed JSON ${inHeader ? "header" : "payload"}`,
          compact(realm, inHeader ? text : headerObject, inHeader ? raw(claimsText) : text, { by: "rsa", digest: "sha256" }),
        ),
      ),
    // Bad base64url inside an otherwise genuine token.
    fc
      .tuple(someGenuine, fc.nat({ max: 2 }), fc.nat(), fc.constantFrom("+", "/", "%", "=", "==", " ", "*", "\\", "\u00e9", "\u0000", "=A"))
      .map(([issued, segment, at, text]) => {
        const parts = issued.token.split(".");
        const target = parts[segment] ?? "";
        const position = at % (target.length + 1);
        parts[segment] = `${target.slice(0, position)}${text}${target.slice(position)}`;
        return tokenCase(`bad base64url in segment ${segment}`, parts.join("."));
      }),
    // Standard base64 (with + / and padding) instead of base64url, same JSON.
    someGenuine.map((issued) => {
      const [h, p, s] = issued.token.split(".") as [string, string, string];
      const std = (segment: string): string => Buffer.from(segment, "base64url").toString("base64");
      return tokenCase("standard base64 segments", `${std(h)}.${std(p)}.${std(s)}`);
    }),
  );
}

/**
 * JOSE headers with at least one poison that must cause a refusal whatever else the header says:
 * an algorithm outside the allow-list (none in any casing, HMAC keyed with the realm's public key),
 * a key-carrying header, a `crit`, an unusable or unknown `kid`, a signature not made by the key
 * the header names, or an algorithm that does not match that key.
 */
export function hostileHeaders(realm: HostileRealm): fc.Arbitrary<TokenCase> {
  const claims = validClaims(realm.issuer);
  const anyKid = fc.constantFrom(realm.rsa.kid, realm.ec.kid, realm.pss.kid, realm.enc.kid, realm.weak.kid);
  // Harmless extras, spread first so a poison set after them always wins.
  const extras = fc.dictionary(fc.constantFrom("typ", "cty", "zip", "x5t", "x5t#S256", "b64", "enc", "nonce", "iat"), fc.jsonValue({ maxDepth: 1 }), {
    maxKeys: 3,
  });
  const header = (poison: Record<string, unknown>, base: Record<string, unknown> = { alg: "RS256", kid: realm.rsa.kid }) =>
    extras.map((extra) => ({ ...extra, ...base, ...poison }));

  const badAlg = fc.oneof(
    fc.mixedCase(fc.constant("none")),
    fc.constantFrom(
      "HS256",
      "HS384",
      "HS512",
      "ps256",
      "PS256 ",
      "RSA-OAEP",
      "dir",
      "RS256 ",
      " RS256",
      "rs256",
      "Rs256",
      "ES256K",
      "none\u0000",
      "",
      "RS256\u0000",
    ),
    fc.string({ maxLength: 12 }).filter(notSupported),
    fc.oneof(fc.integer(), fc.constant(null), fc.constant(["RS256"]), fc.boolean(), fc.constant({ alg: "RS256" })),
  );
  const algPoison = fc
    .tuple(
      badAlg,
      anyKid,
      fc.oneof(
        fc.record({ by: fc.constant("hmac" as const), digest: fc.constantFrom(...digests), secret: fc.nat() }),
        fc.constant({ by: "rsa", digest: "sha256" } as const),
        randomSignature,
      ),
    )
    .chain(([alg, kid, spec]) => header({ alg, kid }).map((h) => tokenCase(`alg ${JSON.stringify(alg)} signed ${spec.by}`, compact(realm, h, claims, spec))));
  // The classic confusion attack, spelled out: HS256/384/512 keyed with each form of the public key.
  const hmacConfusion = fc
    .tuple(fc.constantFrom(...digests), fc.nat({ max: realm.publicKeyForms.length - 1 }), fc.mixedCase(fc.constant("HS")))
    .map(([digest, secret, hs]) =>
      tokenCase(
        `${hs}${digest.slice(3)} keyed with public key form ${secret}`,
        compact(realm, { alg: `${hs}${digest.slice(3)}`, typ: "JWT", kid: realm.rsa.kid }, claims, { by: "hmac", digest, secret }),
      ),
    );
  const embedded = fc
    .tuple(
      fc.oneof(
        fc.constant({ jwk: realm.attacker.jwk }),
        fc.constant({ jwk: realm.rsa.jwk }),
        fc.constant({ jwk: { kty: "oct", k: "c2VjcmV0" } }),
        fc.webUrl().map((jku) => ({ jku })),
        fc.webUrl().map((x5u) => ({ x5u })),
        fc.array(fc.base64String({ maxLength: 40 }), { maxLength: 3 }).map((x5c) => ({ x5c })),
        fc.constantFrom({ jku: null }, { x5c: null }, { jwk: null }, { x5u: "" }),
      ),
      fc.constantFrom<SignatureSpec>({ by: "rsa", digest: "sha256" }, { by: "attacker", digest: "sha256" }),
    )
    .chain(([poison, spec]) =>
      header(poison).map((h) => tokenCase(`embedded ${Object.keys(poison).join()} signed ${spec.by}`, compact(realm, h, claims, spec))),
    );
  const crit = fc
    .oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.constantFrom<unknown>([], ["exp"], ["b64"], ["alg"], null, "b64", 1, {}, [null]))
    .chain((value) =>
      header({ crit: value, b64: false }).map((h) => tokenCase(`crit ${JSON.stringify(value)}`, compact(realm, h, claims, { by: "rsa", digest: "sha256" }))),
    );
  const published = new Set(realm.jwks.map((jwk) => jwk.kid));
  const kidPoison = fc
    .oneof(
      fc.constant({ kid: realm.enc.kid, by: "enc" as const }),
      fc.constant({ kid: realm.weak.kid, by: "weak" as const }),
      fc
        .oneof(
          fc.string({ maxLength: 40 }),
          fc.constantFrom(
            "__proto__",
            "constructor",
            "toString",
            "hasOwnProperty",
            "../../../etc/passwd",
            "*",
            "null",
            realm.rsa.kid.toUpperCase(),
            ` ${realm.rsa.kid}`,
          ),
          fc.constant("k".repeat(5000)),
        )
        .filter((kid) => !published.has(kid))
        .map((kid) => ({ kid, by: "rsa" as const })),
      fc.constantFrom<unknown>(1, null, true, [realm.rsa.kid], { kid: realm.rsa.kid }, "").map((kid) => ({ kid, by: "rsa" as const })),
    )
    .chain(({ kid, by }) =>
      header({ kid }).map((h) => tokenCase(`kid ${JSON.stringify(kid).slice(0, 60)} signed ${by}`, compact(realm, h, claims, { by, digest: "sha256" }))),
    );
  const signaturePoison = fc
    .oneof(
      fc.constant<[Record<string, unknown>, SignatureSpec]>([
        { alg: "RS256", kid: realm.rsa.kid },
        { by: "attacker", digest: "sha256" },
      ]),
      fc.constant<[Record<string, unknown>, SignatureSpec]>([
        { alg: "RS256", kid: realm.rsa.kid },
        { by: "rsa", digest: "sha384" },
      ]),
      fc.constant<[Record<string, unknown>, SignatureSpec]>([
        { alg: "ES256", kid: realm.ec.kid },
        { by: "attacker-ec", encoding: "ieee-p1363" },
      ]),
      // A real signature by the realm's EC key, but DER-encoded: JWS (RFC 7518 3.4) requires R || S.
      fc.constant<[Record<string, unknown>, SignatureSpec]>([
        { alg: "ES256", kid: realm.ec.kid },
        { by: "ec", encoding: "der" },
      ]),
      randomSignature.map((spec): [Record<string, unknown>, SignatureSpec] => [{ alg: "RS256", kid: realm.rsa.kid }, spec]),
      randomSignature.map((spec): [Record<string, unknown>, SignatureSpec] => [{ alg: "ES256", kid: realm.ec.kid }, spec]),
      // RSA-PSS: another key, a salt other than the hash's length (0, or as long as fits), the PSS
      // key's own PKCS #1 v1.5 signature (scheme confusion), random bytes of the modulus' length.
      fc
        .constantFrom<SignatureSpec>(
          { by: "pss", key: "attacker", saltLength: 32 },
          { by: "pss", key: "rsa", saltLength: 32 },
          { by: "pss", key: "pss", saltLength: 0 },
          { by: "pss", key: "pss", saltLength: 20 },
          { by: "pss", key: "pss", saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN },
          { by: "pss-key-pkcs1" },
        )
        .map((spec): [Record<string, unknown>, SignatureSpec] => [{ alg: "PS256", kid: realm.pss.kid }, spec]),
      randomSignature.map((spec): [Record<string, unknown>, SignatureSpec] => [{ alg: "PS256", kid: realm.pss.kid }, spec]),
    )
    .chain(([base, spec]) => header({}, base).map((h) => tokenCase(`${String(base.alg)} signature by ${spec.by}`, compact(realm, h, claims, spec))));
  // A known key used with an algorithm other than its own (each JWK names its alg).
  const mismatch = fc
    .constantFrom<[string, string, SignatureSpec]>(
      ["ES256", realm.rsa.kid, { by: "rsa", digest: "sha256" }],
      ["RS256", realm.ec.kid, { by: "ec", encoding: "ieee-p1363" }],
      ["RS384", realm.rsa.kid, { by: "rsa", digest: "sha384" }],
      ["RS512", realm.rsa.kid, { by: "rsa", digest: "sha512" }],
      ["ES384", realm.ec.kid, { by: "ec", encoding: "ieee-p1363" }],
      ["EdDSA", realm.rsa.kid, { by: "rsa", digest: "sha256" }],
      ["ES512", realm.ec.kid, { by: "ec", encoding: "ieee-p1363" }],
      // The PS256 key is labelled PS256: neither RS256 nor another PSS size under its kid, nor PS256 under the RS256 key's.
      ["RS256", realm.pss.kid, { by: "pss-key-pkcs1" }],
      ["PS384", realm.pss.kid, { by: "pss", key: "pss", saltLength: 48 }],
      ["PS512", realm.pss.kid, { by: "pss", key: "pss", saltLength: 64 }],
      ["PS256", realm.rsa.kid, { by: "pss", key: "rsa", saltLength: 32 }],
    )
    .chain(([alg, kid, spec]) => header({}, { alg, kid }).map((h) => tokenCase(`${alg} with the ${spec.by} key's kid`, compact(realm, h, claims, spec))));
  return fc.oneof(algPoison, hmacConfusion, embedded, crit, kidPoison, signaturePoison, mismatch);
}

/**
 * Tokens validly signed by the realm whose claims break the access-token profile: a claim of the
 * wrong JSON type, a wrong value, a missing required claim, or JSON tricks around them.
 */
export function poisonedClaims(realm: HostileRealm): fc.Arbitrary<TokenCase> {
  const now = Math.floor(Date.now() / 1000);
  const wrongNumber = fc.constantFrom<unknown>(String(now + 3600), "9999999999", null, true, [now + 3600], { exp: now + 3600 }, "NaN", "");
  const wrongString = fc.constantFrom<unknown>(1, null, true, {}, [], 0);
  const poison: fc.Arbitrary<[string, unknown]> = fc.oneof(
    wrongNumber.map((value): [string, unknown] => ["exp", value]),
    wrongNumber.map((value): [string, unknown] => ["iat", value]),
    wrongNumber.map((value): [string, unknown] => ["nbf", value]),
    fc
      .constantFrom<unknown>(
        [realm.issuer],
        { iss: realm.issuer },
        null,
        1,
        true,
        `${realm.issuer}/`,
        realm.issuer.toUpperCase(),
        ` ${realm.issuer}`,
        realm.issuer.replace("http:", "https:"),
        `${realm.issuer}\u0000`,
        realm.issuer.replace("realms", "reaIms"),
      )
      .map((value): [string, unknown] => ["iss", value]),
    fc
      .constantFrom<unknown>(
        1,
        { [TEST_AUDIENCE]: true },
        null,
        true,
        [TEST_AUDIENCE, 1],
        [[TEST_AUDIENCE]],
        "account",
        [],
        "Secured-API",
        `${TEST_AUDIENCE} `,
        [`${TEST_AUDIENCE},account`],
      )
      .map((value): [string, unknown] => ["aud", value]),
    wrongString.map((value): [string, unknown] => ["sub", value]),
    fc
      .constantFrom<unknown>(...[1, null, true, {}, ["Bearer"]], "ID", "Refresh", "Offline", "Logout", "bearer", "Bearer ", "BEARER", "")
      .map((value): [string, unknown] => ["typ", value]),
    fc.constantFrom<unknown>(1, null, ["api-client"], "other-client", "API-CLIENT", "").map((value): [string, unknown] => ["azp", value]),
    wrongString.map((value): [string, unknown] => ["scope", value]),
    wrongString.map((value): [string, unknown] => ["jti", value]),
    fc.constantFrom<[string, unknown]>(["exp", now - 3600], ["exp", 0], ["exp", -1], ["iat", now + 3600], ["nbf", now + 3600]),
    fc.constantFrom<[string, unknown]>(["exp", undefined], ["iat", undefined], ["iss", undefined], ["aud", undefined], ["typ", undefined], ["azp", undefined]),
  );
  const viaObject = poison.map(([name, value]) => {
    const claims = validClaims(realm.issuer);
    if (value === undefined) delete claims[name];
    else claims[name] = value;
    return tokenCase(
      `${name}: ${JSON.stringify(value) ?? "absent"}`,
      compact(realm, { alg: "RS256", typ: "JWT", kid: realm.rsa.kid }, claims, { by: "rsa", digest: "sha256" }),
    );
  });
  // JSON-level tricks: a claim hidden behind __proto__/constructor, or a duplicate key whose last
  // (winning) value is the bad one.
  const body = (omit: string): string =>
    JSON.stringify(Object.fromEntries(Object.entries(validClaims(realm.issuer)).filter(([name]) => name !== omit))).slice(1, -1);
  const viaText = fc
    .constantFrom(
      ["__proto__ typ", `{"__proto__":{"typ":"Bearer"},${body("typ")}}`],
      ["constructor aud", `{"constructor":{"aud":"${TEST_AUDIENCE}"},${body("aud")}}`],
      ["__proto__ exp", `{"__proto__":{"exp":${now + 3600}},${body("exp")}}`],
      ["duplicate typ, last ID", `{${body("")},"typ":"ID"}`],
      ["duplicate aud, last foreign", `{${body("")},"aud":"account"}`],
      ["duplicate exp, last past", `{${body("")},"exp":${now - 3600}}`],
    )
    .map(([label, text]) =>
      tokenCase(label as string, compact(realm, { alg: "RS256", typ: "JWT", kid: realm.rsa.kid }, raw(text as string), { by: "rsa", digest: "sha256" })),
    );
  return fc.oneof({ arbitrary: viaObject, weight: 5 }, { arbitrary: viaText, weight: 1 });
}

type Mutation =
  | { readonly op: "identity" }
  | { readonly op: "replace-char"; readonly at: number; readonly to: string }
  | { readonly op: "flip-bit"; readonly segment: number; readonly at: number; readonly bit: number }
  | { readonly op: "truncate"; readonly at: number }
  | { readonly op: "permute"; readonly order: readonly number[] }
  | { readonly op: "splice"; readonly other: number; readonly segment: number }
  | { readonly op: "insert"; readonly at: number; readonly text: string }
  | { readonly op: "payload"; readonly change: number }
  | { readonly op: "header"; readonly change: number }
  | { readonly op: "pad"; readonly segment: number; readonly pad: string }
  | { readonly op: "swap-case"; readonly at: number };

/** Mutations of genuine tokens, one to three at a time. The identity is included and must be accepted. */
export function mutatedGenuine(realm: HostileRealm, genuine: GenuineTokens): fc.Arbitrary<TokenCase> {
  const count = genuine.all.length;
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constant({ op: "identity" } as const),
    fc.record({ op: fc.constant("replace-char" as const), at: fc.nat(), to: fc.constantFrom(...B64URL_ALPHABET) }),
    fc.record({ op: fc.constant("flip-bit" as const), segment: fc.nat({ max: 2 }), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({
      op: fc.constant("permute" as const),
      order: fc.constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [0, 0, 2], [1, 1, 2], [0, 1], [0, 1, 2, 2], [0, 1, 1, 2]),
    }),
    fc.record({ op: fc.constant("splice" as const), other: fc.nat({ max: count - 1 }), segment: fc.nat({ max: 2 }) }),
    fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      text: fc.constantFrom(".", "..", " ", "\t", "\n", "\r\n", "\u00a0", "\u200b", "\ufeff", "\u0000", "A", "-"),
    }),
    fc.record({ op: fc.constant("payload" as const), change: fc.nat() }),
    fc.record({ op: fc.constant("header" as const), change: fc.nat() }),
    fc.record({ op: fc.constant("pad" as const), segment: fc.nat({ max: 2 }), pad: fc.constantFrom("=", "==", "===") }),
    fc.record({ op: fc.constant("swap-case" as const), at: fc.nat() }),
  );
  const payloadChanges: Array<(claims: Record<string, unknown>) => string> = [
    (c) => JSON.stringify({ ...c, realm_access: { roles: ["user", "admin", "superuser"] } }),
    (c) => JSON.stringify({ ...c, sub: "00000000-0000-0000-0000-000000000000" }),
    (c) => JSON.stringify({ ...c, exp: (c.exp as number) + 365 * 86_400 }),
    (c) => JSON.stringify({ ...c, aud: TEST_AUDIENCE }),
    (c) => JSON.stringify({ ...c, azp: "admin-cli" }),
    (c) => JSON.stringify(c, null, 1), // same claims, other whitespace
    (c) => JSON.stringify(Object.fromEntries(Object.entries(c).reverse())), // same claims, other order
    (c) => `${JSON.stringify(c)} `,
  ];
  const headerChanges: Array<(header: Record<string, unknown>) => string> = [
    (h) => JSON.stringify({ ...h, alg: "RS384" }),
    (h) => JSON.stringify({ ...h, alg: "none" }),
    (h) => JSON.stringify({ ...h, alg: "HS256" }),
    (h) => JSON.stringify({ ...h, alg: h.alg === "PS256" ? "RS256" : "PS256" }),
    (h) => JSON.stringify({ ...h, kid: realm.ec.kid }),
    (h) => JSON.stringify({ ...h, kid: realm.pss.kid }),
    (h) => JSON.stringify({ ...h, jku: "https://attacker.example/certs" }),
    (h) => JSON.stringify({ ...h, typ: "at+jwt" }),
    (h) => JSON.stringify(h, null, 1),
  ];
  const apply = (token: string, m: Mutation): string => {
    const parts = token.split(".");
    switch (m.op) {
      case "identity":
        return token;
      case "replace-char": {
        const at = m.at % Math.max(token.length, 1);
        return `${token.slice(0, at)}${m.to}${token.slice(at + 1)}`;
      }
      case "flip-bit": {
        const bytes = Buffer.from(parts[m.segment] ?? "", "base64url");
        if (bytes.length === 0) return token;
        const at = m.at % bytes.length;
        bytes[at] = (bytes[at] as number) ^ (1 << m.bit);
        parts[m.segment] = bytes.toString("base64url");
        return parts.join(".");
      }
      case "truncate":
        return token.slice(0, m.at % Math.max(token.length, 1));
      case "permute":
        return m.order.map((i) => parts[i] ?? "").join(".");
      case "splice": {
        const other = (genuine.all[m.other]?.token ?? token).split(".");
        parts[m.segment] = other[m.segment] ?? "";
        return parts.join(".");
      }
      case "insert": {
        const at = m.at % (token.length + 1);
        return `${token.slice(0, at)}${m.text}${token.slice(at)}`;
      }
      case "payload": {
        let claims: Record<string, unknown>;
        try {
          claims = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
        } catch {
          return token;
        }
        if (typeof claims !== "object" || claims === null) return token;
        const change = payloadChanges[m.change % payloadChanges.length] as (c: Record<string, unknown>) => string;
        parts[1] = Buffer.from(change(claims)).toString("base64url");
        return parts.join(".");
      }
      case "header": {
        let header: Record<string, unknown>;
        try {
          header = JSON.parse(Buffer.from(parts[0] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
        } catch {
          return token;
        }
        if (typeof header !== "object" || header === null) return token;
        const change = headerChanges[m.change % headerChanges.length] as (h: Record<string, unknown>) => string;
        parts[0] = Buffer.from(change(header)).toString("base64url");
        return parts.join(".");
      }
      case "pad":
        if (parts[m.segment] === undefined) return token;
        parts[m.segment] = `${parts[m.segment] as string}${m.pad}`;
        return parts.join(".");
      case "swap-case": {
        const at = m.at % Math.max(token.length, 1);
        const ch = token.charAt(at);
        const swapped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
        return `${token.slice(0, at)}${swapped}${token.slice(at + 1)}`;
      }
    }
  };
  return fc.tuple(fc.nat({ max: count - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([index, mutations]) => {
    const original = genuine.all[index] as GenuineToken;
    const token = mutations.reduce(apply, original.token);
    const pristine = mutations.every((m) => m.op === "identity");
    return tokenCase(
      `${original.alg} token ${index} after ${mutations.map((m) => JSON.stringify(m)).join(" then ")}`,
      token,
      pristine && original.alg === "RS256",
    );
  });
}
