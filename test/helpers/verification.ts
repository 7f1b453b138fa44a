/** Asking a verifier, the way the tests do: the code of a refusal (and, re-exported, a token's payload). */
import { expect } from "@jest/globals";
import { TokenRejectedError, type ErrorCode } from "../../lib/errors.js";
import type { AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";

/** The reason code the verifier refuses `token` with; fails the test if it accepts it or fails otherwise. */
export async function rejectionCode(verifier: AccessTokenVerifier, token: string): Promise<ErrorCode> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).code;
}

export { payloadOf } from "./tokens.js";
