import { describe, expect, test } from "@jest/globals";
import { allOf, anyOf, clientRole, describeRequirement, isSatisfied, realmRole, scope } from "../../lib/routes/requirements.js";

const alice = {
  realm_access: { roles: ["user", "admin"] },
  resource_access: { "secured-api": { roles: ["writer"] }, account: { roles: ["view-profile"] } },
  scope: "openid profile email",
};
const bob = { realm_access: { roles: ["user"] }, resource_access: { "secured-api": { roles: ["reader"] } }, scope: "openid email" };

describe("single requirements", () => {
  test.each([
    ["realm role present", realmRole("admin"), alice, true],
    ["realm role absent", realmRole("admin"), bob, false],
    ["client role present", clientRole("secured-api", "reader"), bob, true],
    ["client role of another client", clientRole("account", "reader"), bob, false],
    ["client role name under another client", clientRole("account", "writer"), alice, false],
    ["scope present", scope("profile"), alice, true],
    ["scope absent", scope("profile"), bob, false],
    ["scope is a whole word, not a substring", scope("mail"), bob, false],
  ])("%s", (_name, requirement, claims, expected) => {
    expect(isSatisfied(requirement, claims)).toBe(expected);
  });
});

describe("any-of and all-of", () => {
  const readReports = anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer"));
  test("any-of: one match is enough", () => {
    expect(isSatisfied(readReports, alice)).toBe(true);
    expect(isSatisfied(readReports, bob)).toBe(true);
    expect(isSatisfied(readReports, { realm_access: { roles: ["user"] } })).toBe(false);
  });
  test("all-of: every part must match", () => {
    const adminWriter = allOf(realmRole("admin"), clientRole("secured-api", "writer"), scope("email"));
    expect(isSatisfied(adminWriter, alice)).toBe(true);
    expect(isSatisfied(adminWriter, { ...alice, scope: "openid" })).toBe(false);
    expect(isSatisfied(adminWriter, bob)).toBe(false);
  });
  test("nesting", () => {
    const nested = anyOf(realmRole("admin"), allOf(clientRole("secured-api", "reader"), scope("email")));
    expect(isSatisfied(nested, alice)).toBe(true);
    expect(isSatisfied(nested, bob)).toBe(true);
    expect(isSatisfied(nested, { ...bob, scope: "openid" })).toBe(false);
  });
  test("empty any-of grants nothing, empty all-of grants everything", () => {
    expect(isSatisfied(anyOf(), alice)).toBe(false);
    expect(isSatisfied(allOf(), {})).toBe(true);
  });
});

describe("missing and malformed claims grant nothing (and never throw)", () => {
  test.each([
    ["no claims at all", {}],
    ["realm_access is a string", { realm_access: "admin" }],
    ["realm_access is null", { realm_access: null }],
    ["roles is a string", { realm_access: { roles: "admin" } }],
    ["roles holds non-strings", { realm_access: { roles: [{ name: "admin" }, 1, null] } }],
    ["realm_access is an array", { realm_access: ["admin"] }],
    ["roles only inherited from the prototype", { realm_access: Object.create({ roles: ["admin"] }) as object }],
  ])("%s", (_name, claims) => {
    expect(isSatisfied(realmRole("admin"), claims)).toBe(false);
  });
  test.each([
    ["resource_access is a string", { resource_access: "secured-api" }],
    ["client entry is an array", { resource_access: { "secured-api": ["writer"] } }],
    ["roles is an object", { resource_access: { "secured-api": { roles: { writer: true } } } }],
    ["client named __proto__", { resource_access: JSON.parse('{"__proto__": {"roles": ["writer"]}}') as object }],
  ])("%s", (_name, claims) => {
    expect(isSatisfied(clientRole("secured-api", "writer"), claims)).toBe(false);
  });
  test.each([
    ["scope is an array", { scope: ["profile"] }],
    ["scope is a number", { scope: 1 }],
  ])("%s", (_name, claims) => {
    expect(isSatisfied(scope("profile"), claims)).toBe(false);
  });
});

test("requirements read as words, for error bodies and docs", () => {
  expect(describeRequirement(realmRole("admin"))).toBe("realm role admin");
  expect(describeRequirement(anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer")))).toBe(
    "client role secured-api/reader or client role secured-api/writer",
  );
  expect(describeRequirement(allOf(scope("a"), anyOf(realmRole("x"), realmRole("y"))))).toBe("scope a and (realm role x or realm role y)");
});
