/**
 * One Keycloak version for every path: keycloak/version.json names it; docker-compose.yml's image,
 * the Maven artifact npm run keycloak fetches, and the admin client the tests use must follow it.
 */
import { describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { containerImage, keycloakVersion, mavenCoordinates } from "../../local/keycloak/version.js";
import { ROOT } from "../../local/stack.js";

const { version, minimumJava } = keycloakVersion();

describe("keycloak/version.json", () => {
  test("names a Keycloak release and the Java it needs", () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(minimumJava).toBeGreaterThanOrEqual(17);
  });

  test("docker-compose.yml runs exactly that version", () => {
    const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as { services: { keycloak: { image: string } } };
    expect(compose.services.keycloak.image).toBe(containerImage(version));
  });

  test("npm run keycloak fetches exactly that version from Maven Central", () => {
    expect(mavenCoordinates(version)).toBe(`org.keycloak:keycloak-quarkus-dist:${version}:zip`);
  });

  test("the admin client the tests drive Keycloak with is of the same minor version", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    const [major, minor] = version.split(".");
    expect(manifest.devDependencies["@keycloak/keycloak-admin-client"]).toBe(`~${major}.${minor}.${version.split(".")[2]}`);
    const installed = JSON.parse(readFileSync(join(ROOT, "node_modules", "@keycloak", "keycloak-admin-client", "package.json"), "utf8")) as { version: string };
    expect(installed.version.startsWith(`${major}.${minor}.`)).toBe(true);
  });

  test("the README and docs/keycloak.md name no other Keycloak version", () => {
    for (const file of ["README.md", join("docs", "keycloak.md")]) {
      const mentioned = [...readFileSync(join(ROOT, file), "utf8").matchAll(/[Kk]eycloak[ :]+(\d+\.\d+\.\d+)/g)].map((match) => match[1]);
      expect(mentioned.filter((other) => other !== version)).toEqual([]);
    }
  });
});
