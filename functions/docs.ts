/** The API's docs, public: `GET /openapi.json`, Swagger UI at `GET /docs`, and its files. */
import { docsHandler } from "../lib/index.js";
import { API_ROUTES } from "./routes.js";

export const handler = docsHandler(API_ROUTES);
