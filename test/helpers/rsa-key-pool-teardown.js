/** Jest's globalTeardown: the run's key pool (test/helpers/rsa-key-pool-setup.js) is deleted. */
import { rmSync } from "node:fs";
import { dirname } from "node:path";

export default function teardown() {
  const file = process.env.KLA_TEST_RSA_POOL;
  if (file !== undefined) rmSync(dirname(file), { recursive: true, force: true });
}
