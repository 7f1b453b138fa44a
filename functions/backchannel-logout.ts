/**
 * The back-channel logout receiver: public (no authorizer), called by Keycloak server to server
 * with a logout token; records the ended session in the revocation table. Deployed only with the
 * `revocation` stage parameter on (serverless.yml).
 */
import { backchannelLogoutHandler } from "../lib/index.js";

export const handler = backchannelLogoutHandler();
