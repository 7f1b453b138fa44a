/** The deployed Lambda authorizer for this API's routes (REST TOKEN/REQUEST and HTTP API 2.0). */
import { authorizerHandler } from "../lib/index.js";
import { API_ROUTES } from "./routes.js";

export const handler = authorizerHandler(API_ROUTES);
