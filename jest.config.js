/**
 * Jest runs the TypeScript sources as native ES modules (middy 6 and oidc-provider are ESM-only).
 * ts-jest only transpiles (isolatedModules); `npm run typecheck` is the type gate.
 * Folders: test/unit (in-process, fast), test/stress (fuzzing and load, in-process),
 * test/package (`serverless package`), test/e2e (the local stack over HTTP, the browser).
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, diagnostics: false }],
  },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // No test reaches beyond loopback (test/helpers/loopback-only.ts).
  setupFiles: ["<rootDir>/test/helpers/loopback-only.ts"],
  // Real Keycloak (Java, Maven) runs only under `npm run test:keycloak` (jest.keycloak.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/keycloak/"],
  testTimeout: 30000,
};
