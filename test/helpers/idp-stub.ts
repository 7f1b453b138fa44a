/** A local discovery + JWKS server for our tests: the public testing module's (lib/testing). */
export { startJwksServer as startIdpStub, type JwksServer as IdpStub } from "../../lib/testing/index.js";
