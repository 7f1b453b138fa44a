/** The project's one Keycloak version, from keycloak/version.json (see the comment there). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const VERSION_FILE = fileURLToPath(new URL("../../keycloak/version.json", import.meta.url));

export interface KeycloakVersion {
  /** e.g. 26.4.2: the Maven artifact's version and the container image's tag. */
  readonly version: string;
  /** Lowest Java major version it runs on. */
  readonly minimumJava: number;
}

export const MAVEN_GROUP_ARTIFACT = "org.keycloak:keycloak-quarkus-dist";

/** `org.keycloak:keycloak-quarkus-dist:26.4.2:zip`, as `mvn dependency:copy -Dartifact=` takes it. */
export const mavenCoordinates = (version: string): string => `${MAVEN_GROUP_ARTIFACT}:${version}:zip`;

/** The container image docker-compose.yml must run. */
export const containerImage = (version: string): string => `quay.io/keycloak/keycloak:${version}`;

export function keycloakVersion(file = VERSION_FILE): KeycloakVersion {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown; minimumJava?: unknown };
  if (typeof parsed.version !== "string" || !/^\d+\.\d+\.\d+$/.test(parsed.version)) {
    throw new Error(`${file}: "version" must be a Keycloak release like 26.4.2`);
  }
  if (typeof parsed.minimumJava !== "number" || !Number.isInteger(parsed.minimumJava)) {
    throw new Error(`${file}: "minimumJava" must be a Java major version like 17`);
  }
  return { version: parsed.version, minimumJava: parsed.minimumJava };
}
