import http from "node:http";
import https from "node:https";
import { KeysUnavailableError } from "../errors.js";

/** Fetches a JSON document from the identity provider; injectable so tests can count or fail calls. */
export type FetchJson = (url: string) => Promise<unknown>;

export interface FetchJsonOptions {
  /** Budget for connect plus the whole response. */
  readonly timeoutMs: number;
  /** Allow plain http:// to non-loopback hosts. */
  readonly allowHttp: boolean;
  /** Bodies above this are refused while streaming, so a hostile server cannot exhaust memory. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

/** True for hosts that cannot leave this machine: plain http to them cannot be intercepted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Throws unless the URL may be used to fetch keys: https anywhere, http only to loopback hosts or
 * with the explicit `allowHttp` opt-in. Keys fetched in clear text over a network could be swapped.
 */
export function assertFetchAllowed(url: URL, allowHttp: boolean): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && (allowHttp || isLoopbackHost(url.hostname))) return;
  throw new KeysUnavailableError(`refusing to fetch keys from ${url.protocol}//${url.host}: use https, or set KEYCLOAK_ALLOW_HTTP=true for a trusted network`);
}

/** Posts a form and reads a JSON answer (token introspection, RFC 7662), under the same rules as FetchJson. */
export type PostForm = (url: string, form: URLSearchParams, headers: Readonly<Record<string, string>>) => Promise<unknown>;

/**
 * A small JSON GET over node:http(s) (lighter at cold start than global fetch): a timeout, a size
 * cap, no redirects followed, non-200 and non-JSON treated as failures.
 */
export function createFetchJson(options: FetchJsonOptions): FetchJson {
  const exchange = jsonExchange(options, "key fetch");
  return (target) => exchange(target, undefined);
}

/**
 * createFetchJson's POST: an `application/x-www-form-urlencoded` body, the same https rule (a
 * token and a client secret are never sent in clear text off this machine), timeout and size cap.
 * Failures are KeysUnavailableErrors labelled `label`; callers give them their own type.
 */
export function createPostForm(options: FetchJsonOptions, label: string): PostForm {
  const exchange = jsonExchange(options, label);
  return (target, form, headers) => exchange(target, { body: form.toString(), headers });
}

function jsonExchange(
  options: FetchJsonOptions,
  label: string,
): (target: string, post: { body: string; headers: Readonly<Record<string, string>> } | undefined) => Promise<unknown> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const fetchOnce = (
    target: string,
    post: { body: string; headers: Readonly<Record<string, string>> } | undefined,
    retryOnStaleSocket: boolean,
  ): Promise<unknown> =>
    new Promise<unknown>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(target);
        assertFetchAllowed(url, options.allowHttp);
      } catch (cause) {
        reject(cause instanceof KeysUnavailableError ? cause : new KeysUnavailableError(`invalid key URL`, { cause }));
        return;
      }
      const fail = (message: string, cause?: unknown, httpStatus?: number): void => {
        request.destroy();
        reject(new KeysUnavailableError(`${message} (${url.origin}${url.pathname})`, { cause, ...(httpStatus === undefined ? {} : { httpStatus }) }));
      };
      const client = url.protocol === "https:" ? https : http;
      const headers: Record<string, string> =
        post === undefined
          ? { accept: "application/json" }
          : {
              accept: "application/json",
              "content-type": "application/x-www-form-urlencoded",
              "content-length": String(Buffer.byteLength(post.body)),
              ...post.headers,
            };
      const request = client.request(url, { method: post === undefined ? "GET" : "POST", headers, timeout: options.timeoutMs }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          fail(`${label} answered HTTP ${response.statusCode ?? "?"}`, undefined, response.statusCode);
          return;
        }
        const declared = Number(response.headers["content-length"] ?? "0");
        if (declared > maxBytes) {
          fail(`${label} body of ${declared} bytes exceeds ${maxBytes}`);
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) fail(`${label} body exceeds ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on("error", (cause) => fail(`${label} response failed`, cause));
        response.on("end", () => {
          clearTimeout(deadline);
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          } catch (cause) {
            reject(new KeysUnavailableError(`${label} body is not JSON (${url.origin}${url.pathname})`, { cause }));
          }
        });
      });
      // `timeout` above only covers socket idleness; this bounds the whole exchange.
      const deadline = setTimeout(() => fail(`${label} timed out after ${options.timeoutMs} ms`), options.timeoutMs);
      deadline.unref();
      request.on("timeout", () => fail(`${label} timed out after ${options.timeoutMs} ms`));
      request.on("error", (cause) => {
        clearTimeout(deadline);
        // A kept-alive socket the server closed while idle fails at once: that GET never reached
        // the server, so it is sent again, once, on a fresh socket (as undici does; introspection is a read).
        const code = (cause as { code?: unknown }).code;
        if (retryOnStaleSocket && request.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) {
          fetchOnce(target, post, false).then(resolve, reject);
          return;
        }
        reject(cause instanceof KeysUnavailableError ? cause : new KeysUnavailableError(`${label} failed (${url.origin}${url.pathname})`, { cause }));
      });
      request.on("close", () => clearTimeout(deadline));
      request.end(post?.body);
    });
  return (target, post) => fetchOnce(target, post, true);
}
