/**
 * The authorizer function under serverless-offline: the local stack sets KLA_LOCAL_AUTHORIZER, and
 * infra/authorizer-entry.cjs then names this file. Never deployed: stage checks refuse it.
 */
import { API_ROUTES } from "../../functions/routes.js";
import { offlineAuthorizer } from "./offline-authorizer.js";

export const handler = offlineAuthorizer(API_ROUTES);
