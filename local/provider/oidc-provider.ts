/**
 * oidc-provider, imported without its "Unsupported runtime" warning on Node.js 20: the library
 * asks for Node 22 (Lambda's runtime), while our machines run Node 20, where the whole provider
 * test suite passes. Only that one line is held back; every other warning still shows.
 */
const warn = console.warn;
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === "string" && args[0].startsWith("oidc-provider WARNING: Unsupported runtime")) return;
  warn(...args);
};
const library = await import("oidc-provider").finally(() => {
  console.warn = warn;
});

export const Provider = library.default;
export type Provider = InstanceType<typeof library.default>;
export const errors = library.errors;
