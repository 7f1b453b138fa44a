/**
 * Jest runs the TypeScript sources as native ES modules (middy 6 and oidc-provider are ESM-only).
 * test/helpers/esbuild-transform.js only strips types; `npm run typecheck` is the type gate.
 * Folders: test/unit (in-process, fast), test/stress (fuzzing and load, in-process),
 * test/package (`serverless package`), test/e2e (the local stack over HTTP, the browser).
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": "<rootDir>/test/helpers/esbuild-transform.js",
  },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // No test reaches beyond loopback (test/helpers/loopback-only.ts).
  setupFiles: ["<rootDir>/test/helpers/loopback-only.ts"],
  // RSA key pairs made once per run, in parallel (test/helpers/rsa-key-pool-setup.js).
  globalSetup: "<rootDir>/test/helpers/rsa-key-pool-setup.js",
  globalTeardown: "<rootDir>/test/helpers/rsa-key-pool-teardown.js",
  // Real Keycloak (Java, Maven) runs only under `npm run test:keycloak` (jest.keycloak.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/keycloak/"],
  testTimeout: 30000,
};
