/**
 * Jest's globalSetup: RSA-2048 key pairs for this run, made once, in parallel on libuv's threads,
 * before any test file starts. Each pair takes ~150 ms to make, and the unit tests ask for about
 * eighty; made per call they were most of `npm run test:unit`'s time. Every test file draws from
 * the start of the pool (test/helpers/rsa-key-pool.ts), so the keys of one file are distinct from
 * each other; two files may hold the same pair, which nothing shares between files can notice.
 * The pairs live in a temporary file for this run only and are deleted at its end.
 */
import { generateKeyPair } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** More than any one test file asks for; a file that asks for more gets freshly made keys. */
const POOL_SIZE = 16;

export default async function setup() {
  const made = await Promise.all(
    Array.from({ length: POOL_SIZE }, () =>
      promisify(generateKeyPair)("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      }),
    ),
  );
  const dir = mkdtempSync(join(tmpdir(), "kla-rsa-pool-"));
  const file = join(dir, "pairs.json");
  writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
  // Workers start after globalSetup and inherit the environment.
  process.env.KLA_TEST_RSA_POOL = file;
}
