/**
 * Environment variables as typed, documented settings. Each function's configuration is a record
 * of these (lib/config/*-config.ts), read once at cold start; a bad value throws a ConfigError that
 * names the variable and the fix. The same records generate the configuration tables of
 * docs/configuration.md, so a default is written exactly once: here.
 */
import { ConfigError } from "../errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Setting<T> {
  /** The environment variable. */
  readonly name: string;
  /** One line for the docs: what it means. */
  readonly doc: string;
  /** The default as the docs show it (`(required)` when there is none). */
  readonly shown: string;
  read(env: Env): T;
}

/** The settings' values, typed. */
export type SettingValues<S extends Readonly<Record<string, Setting<unknown>>>> = { readonly [K in keyof S]: ReturnType<S[K]["read"]> };

/** Read every setting of a record; the result is frozen. */
export function readSettings<S extends Readonly<Record<string, Setting<unknown>>>>(settings: S, env: Env): SettingValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) values[key] = setting.read(env);
  return Object.freeze(values) as SettingValues<S>;
}

/** The variable's value, trimmed; undefined when unset or empty (serverless.yml passes '' for "use the default"). */
function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

export function text(name: string, options: { doc: string; fallback: string }): Setting<string>;
export function text(name: string, options: { doc: string; fallback?: undefined; required: true; example: string }): Setting<string>;
export function text(name: string, options: { doc: string; fallback?: undefined; required?: false }): Setting<string | undefined>;
export function text(name: string, options: { doc: string; fallback?: string | undefined; required?: boolean; example?: string }): Setting<string | undefined> {
  return {
    name,
    doc: options.doc,
    shown: options.fallback !== undefined ? `\`${options.fallback}\`` : options.required === true ? "(required)" : "(none)",
    read(env) {
      const value = raw(env, name) ?? options.fallback;
      if (value === undefined && options.required === true) throw new ConfigError(`${name} is required: ${options.doc} (e.g. ${options.example ?? "..."})`);
      return value;
    },
  };
}

/** An absolute http(s) URL. */
export function url(name: string, options: { doc: string; required: true; example: string }): Setting<string>;
export function url(name: string, options: { doc: string; required?: false; example: string }): Setting<string | undefined>;
export function url(name: string, options: { doc: string; required?: boolean; example: string }): Setting<string | undefined> {
  return {
    name,
    doc: options.doc,
    shown: options.required === true ? "(required)" : "(none)",
    read(env) {
      const value = raw(env, name);
      if (value === undefined) {
        if (options.required === true) throw new ConfigError(`${name} is required: ${options.doc} (e.g. ${options.example})`);
        return undefined;
      }
      parseHttpUrl(name, value, options.example);
      return value;
    },
  };
}

/** Throws unless `value` is an absolute http(s) URL. */
export function parseHttpUrl(name: string, value: string, example: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch (cause) {
    throw new ConfigError(`${name} is not a valid URL: use an absolute http(s) URL such as ${example}`, { cause });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new ConfigError(`${name} must be an http(s) URL such as ${example}`);
  return parsed;
}

/** A comma-separated list; entries trimmed; an empty entry is an error. `allowed` restricts the entries. */
export function list(
  name: string,
  options: { doc: string; fallback?: readonly string[]; required?: boolean; example?: string; allowed?: readonly string[] },
): Setting<readonly string[]> {
  const fallback = options.fallback ?? [];
  return {
    name,
    doc: options.doc,
    shown: options.required === true ? "(required)" : fallback.length > 0 ? `\`${fallback.join(",")}\`` : "(none)",
    read(env) {
      const value = raw(env, name);
      if (value === undefined) {
        if (options.required === true)
          throw new ConfigError(`${name} is required: ${options.doc}, as a comma-separated list (e.g. ${options.example ?? "a,b"})`);
        return Object.freeze([...fallback]);
      }
      const items = value.split(",").map((item) => item.trim());
      if (items.some((item) => item === "")) throw new ConfigError(`${name} has an empty entry: write a comma-separated list without empty items`);
      for (const item of items) {
        if (options.allowed !== undefined && !options.allowed.includes(item)) {
          throw new ConfigError(`${name} contains "${item}": use a comma-separated subset of ${options.allowed.join(", ")}`);
        }
      }
      return Object.freeze(items);
    },
  };
}

/** A whole number within bounds. */
export function integer(name: string, options: { doc: string; fallback: number; min: number; max: number; unit?: string }): Setting<number> {
  return {
    name,
    doc: `${options.doc} (${options.min} to ${options.max}${options.unit === undefined ? "" : ` ${options.unit}`})`,
    shown: `\`${options.fallback}\``,
    read(env) {
      const value = raw(env, name);
      if (value === undefined) return options.fallback;
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < options.min || parsed > options.max) {
        throw new ConfigError(`${name} must be a whole number from ${options.min} to ${options.max} (default ${options.fallback}), got "${value}"`);
      }
      return parsed;
    },
  };
}

/** `true` or `false`. */
export function flag(name: string, options: { doc: string; fallback: boolean }): Setting<boolean> {
  return {
    name,
    doc: options.doc,
    shown: `\`${String(options.fallback)}\``,
    read(env) {
      const value = raw(env, name);
      if (value === undefined) return options.fallback;
      if (value === "true") return true;
      if (value === "false") return false;
      throw new ConfigError(`${name} must be "true" or "false", got "${value}"`);
    },
  };
}

/** The Markdown table of a settings record, for docs/configuration.md (kept equal by a test). */
export function settingsTable(settings: Readonly<Record<string, Setting<unknown>>>): string {
  const rows = Object.values(settings).map((setting) => `| \`${setting.name}\` | ${setting.shown} | ${setting.doc.replace(/\|/g, "\\|")} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}
