/**
 * Prints the JAVA_HOME `npm run keycloak` would run Keycloak with (keycloak/version.json's
 * minimumJava or newer: KEYCLOAK_JAVA_HOME, JAVA_HOME, java on PATH, else a newer JDK installed
 * beside those), or says what to install. For CI: `export KEYCLOAK_JAVA_HOME="$(npx tsx local/keycloak/java-home.ts)"`.
 */
import { findJava } from "./java.js";
import { keycloakVersion } from "./version.js";

try {
  const { version, minimumJava } = keycloakVersion();
  const java = await findJava(minimumJava);
  process.stderr.write(`Keycloak ${version} runs on Java ${java.major} (${java.versionLine}) from ${java.source}\n`);
  process.stdout.write(`${java.home}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
