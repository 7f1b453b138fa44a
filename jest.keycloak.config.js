/**
 * `npm run test:keycloak`: the tests that need real Keycloak (test/keycloak/), one file at a time,
 * because each file starts a Keycloak of its own and this machine has two cores.
 * @type {import('jest').Config}
 */
import base from "./jest.config.js";

export default {
  ...base,
  testMatch: ["<rootDir>/test/keycloak/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  maxWorkers: 1,
  testTimeout: 120000,
};
