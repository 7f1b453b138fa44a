/** Authorizer events for our tests: the public testing module's (lib/testing). */
export { authorizerEvent, EVENT_KINDS, TEST_METHOD_ARN as METHOD_ARN } from "../../lib/testing/index.js";
