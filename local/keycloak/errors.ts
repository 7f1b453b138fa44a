/**
 * Errors `npm run keycloak` shows as they are: one message saying what is wrong and what to do,
 * never a stack trace.
 */
export class KeycloakSetupError extends Error {
  override readonly name = "KeycloakSetupError";
}
