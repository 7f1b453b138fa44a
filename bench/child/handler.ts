/**
 * The deployed handler, loaded from the bundle. The process environment is the deployed one; an
 * instance with other settings (token cache off...) is the same bundle imported under another URL
 * (`?instance=name`, a separate module with its own init) with those variables set while it
 * initialises and answers its first request, then restored. Code that reads a setting later than
 * that would see the deployed value: keep settings read at init, as Lambda functions do.
 */
import type { LambdaContext } from "../events.js";

export type Invoke = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface HandlerInstance {
  readonly name: string;
  readonly overrides: Readonly<Record<string, string>>;
  readonly invoke: Invoke;
}

/** What a REST or HTTP API authorizer answers when it allows. */
export function isAllow(result: unknown): boolean {
  if (typeof result !== "object" || result === null) return false;
  const r = result as { isAuthorized?: unknown; policyDocument?: { Statement?: { Effect?: unknown }[] } };
  if (r.isAuthorized === true) return true;
  const statements = r.policyDocument?.Statement;
  return Array.isArray(statements) && statements.length > 0 && statements.every((s) => s.Effect === "Allow");
}

const instances = new Map<string, Promise<HandlerInstance>>();

export interface FirstRequest {
  readonly event: unknown;
  readonly context: LambdaContext;
}

export function loadHandler(
  bundleUrl: string,
  exportName: string,
  name: string,
  overrides: Readonly<Record<string, string>>,
  first: () => Promise<FirstRequest>,
): Promise<HandlerInstance> {
  const key = JSON.stringify([bundleUrl, ...Object.entries(overrides).sort()]);
  let instance = instances.get(key);
  if (instance === undefined) {
    instance = (async () => {
      const saved = new Map(Object.keys(overrides).map((k) => [k, process.env[k]]));
      Object.assign(process.env, overrides);
      try {
        const url = Object.keys(overrides).length === 0 ? bundleUrl : `${bundleUrl}?instance=${encodeURIComponent(name)}`;
        const module = (await import(url)) as Record<string, unknown>;
        if (typeof module[exportName] !== "function") throw new Error(`${bundleUrl} exports no function ${exportName}`);
        const invoke = module[exportName] as Invoke;
        // The first answer (keys fetched, init complete) before anything is timed.
        const { event, context } = await first();
        const result = await invoke(event, context);
        if (!isAllow(result)) throw new Error(`${name}: the first valid token was not allowed: ${JSON.stringify(result).slice(0, 300)}`);
        return { name, overrides, invoke };
      } finally {
        for (const [k, v] of saved) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    })();
    instances.set(key, instance);
  }
  return instance;
}
