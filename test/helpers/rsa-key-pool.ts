/**
 * The next RSA-2048 key pair of this run's pool (test/helpers/rsa-key-pool-setup.js), or undefined
 * when the pool is spent or absent (a test run outside jest's setup). Jest evaluates this module
 * afresh for every test file, so each file starts at the pool's first pair and never gets one pair
 * twice.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

let pairs: Array<{ privateKey: string; publicKey: string }> | undefined;
let next = 0;

export function pooledRsaKeyPair(): KeyPair | undefined {
  const file = process.env.KLA_TEST_RSA_POOL;
  if (file === undefined) return undefined;
  pairs ??= JSON.parse(readFileSync(file, "utf8")) as Array<{ privateKey: string; publicKey: string }>;
  const pair = pairs[next];
  if (pair === undefined) return undefined;
  next += 1;
  return { privateKey: createPrivateKey(pair.privateKey), publicKey: createPublicKey(pair.publicKey) };
}
