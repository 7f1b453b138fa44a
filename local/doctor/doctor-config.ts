import type { AuthorizerConfig } from "../../lib/config/authorizer-config.js";

/** The authorizer's configuration, and the one trusted realm the doctor looks at (`--realm`). */
export type DoctorConfig = AuthorizerConfig & { readonly issuer: string };
