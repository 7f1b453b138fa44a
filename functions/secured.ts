/**
 * The protected routes of functions/routes.ts: the caller's verified claims, exactly as the token
 * carried them, once the route's requirement is met.
 */
import { protectedHandler } from "../lib/index.js";
import { API_ROUTES } from "./routes.js";

export const handler = protectedHandler(API_ROUTES, async (_event, context) => ({
  statusCode: 200,
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ claims: context.claims }),
}));
