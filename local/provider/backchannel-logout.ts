/**
 * Keycloak's back-channel logout, sent by the embedded provider: when a session ends (the POST
 * logout with a refresh token, or the browser's end-session request), every client of the session
 * whose realm entry has a "Backchannel logout URL" (`attributes["backchannel.logout.url"]`) gets
 * `POST <url>` with `logout_token=<JWT>` as a form, as Keycloak 26.4 sends it: header
 * `{"alg":"RS256","typ":"logout+jwt","kid":...}`, claims `exp` (iat + 120), `iat`, `jti`, `iss`,
 * `aud` (the client), `sub`, `typ: "Logout"`, `sid` (unless "Backchannel logout session required"
 * is off) and the back-channel logout event. A receiver that fails is logged, and the logout goes
 * on, as in Keycloak.
 */
import { randomUUID } from "node:crypto";
import type { KeyRing } from "./keys.js";
import type { Realm } from "./realm.js";

const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export interface BackchannelLogoutDeps {
  readonly issuer: () => string;
  readonly realm: Realm;
  readonly keys: KeyRing;
  /** Where failures are told; console by default. */
  readonly warn?: (message: string) => void;
}

/** Sends the logout of session `sid` of `sub` to each of `clientIds` that has a back-channel logout URL. */
export async function sendBackchannelLogouts(
  deps: BackchannelLogoutDeps,
  logout: { sub: string; sid: string | undefined; clientIds: Iterable<string> },
): Promise<void> {
  const warn = deps.warn ?? ((message: string) => console.warn(message));
  const sends: Promise<void>[] = [];
  for (const clientId of new Set(logout.clientIds)) {
    const attributes = deps.realm.client(clientId)?.attributes ?? {};
    const url = attributes["backchannel.logout.url"];
    if (url === undefined || url === "") continue;
    const iat = Math.floor(Date.now() / 1000);
    const token = deps.keys.sign("logout+jwt", {
      exp: iat + 120,
      iat,
      jti: randomUUID(),
      iss: deps.issuer(),
      aud: clientId,
      sub: logout.sub,
      typ: "Logout",
      ...(logout.sid !== undefined && attributes["backchannel.logout.session.required"] !== "false" ? { sid: logout.sid } : {}),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    });
    sends.push(
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }),
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status !== 200) warn(`back-channel logout to ${url} (client ${clientId}) answered ${response.status}`);
        },
        (error: Error) => warn(`back-channel logout to ${url} (client ${clientId}) failed: ${error.message}`),
      ),
    );
  }
  await Promise.all(sends);
}
