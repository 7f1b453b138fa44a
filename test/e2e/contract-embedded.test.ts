/**
 * The provider contract (test/contract/contract.ts) against the embedded provider: the same file
 * `npm run test:keycloak` holds real Keycloak to, so the two are held to one contract. Where the
 * embedded provider cannot follow Keycloak, test/contract/subject.ts says so and docs/keycloak.md
 * lists it.
 */
import { afterAll, beforeAll, describe } from "@jest/globals";
import { describeProviderContract } from "../contract/contract.js";
import { startEmbeddedSubject } from "../contract/embedded-subject.js";
import type { ProviderUnderTest } from "../contract/subject.js";

let subject: ProviderUnderTest & { stop(): Promise<void> };

beforeAll(async () => {
  subject = await startEmbeddedSubject();
}, 120_000);

afterAll(async () => {
  await subject?.stop();
});

describe("the provider contract against the embedded provider", () => {
  describeProviderContract(() => subject, { adminSignOut: false });
});
