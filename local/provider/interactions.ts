/**
 * The browser side of the authorization-code flow: a minimal Keycloak-like login form (fields
 * `username` and `password`) and automatic consent, as Keycloak gives for clients without
 * "consent required".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import type { Accounts } from "./accounts.js";
import { escapeHtml } from "../../lib/docs/html.js";
import { userId } from "./realm.js";

function loginPage(realmName: string, action: string, error?: string, username = ""): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to ${escapeHtml(realmName)}</title></head>
<body>
<h1>Sign in to your account</h1>
${error ? `<p id="input-error" role="alert">${escapeHtml(error)}</p>` : ""}
<form id="kc-form-login" method="post" action="${escapeHtml(action)}">
  <label for="username">Username or email</label>
  <input id="username" name="username" type="text" autocomplete="username" autofocus value="${escapeHtml(username)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <button id="kc-login" name="login" type="submit">Sign In</button>
</form>
</body>
</html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(html);
}

export interface InteractionDeps {
  realmName: string;
  accounts: Accounts;
  /** Where the interaction lives, e.g. /realms/demo/login-actions/<uid> (the form posts back to it). */
  path: (uid: string) => string;
}

/** Handles GET (show form or auto-consent) and POST (check credentials) for one interaction. */
export async function handleInteraction(provider: Provider, deps: InteractionDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { prompt, uid, params } = details;

  if (prompt.name === "consent") {
    // Grant whatever is still missing: consent is not required for any client of the realm.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session?.accountId ?? "", clientId: String(params.client_id) });
    if (!grant) throw new Error("grant of the interaction not found");
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(" "));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (prompt.name !== "login") {
    await provider.interactionFinished(req, res, {
      error: "interaction_required",
      error_description: `unsupported prompt ${prompt.name}`,
    });
    return;
  }

  const action = deps.path(uid);
  if (req.method !== "POST") {
    sendHtml(res, 200, loginPage(deps.realmName, action));
    return;
  }

  const form = await readForm(req);
  const username = form.get("username") ?? "";
  const user = deps.accounts.authenticate(username, form.get("password") ?? "");
  if (!user) {
    // Keycloak re-renders the form with this message (and status 200).
    sendHtml(res, 200, loginPage(deps.realmName, action, "Invalid username or password.", username));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: userId(user), acr: "1", amr: ["pwd"] } }, { mergeWithLastSubmission: false });
}
