/**
 * The three stacks of the mismatch suite in front of one realm (see mismatches.ts): started one
 * after another (two cores, other test files running), stopped in reverse.
 */
import { startStack, type StackOptions } from "../../local/stack.js";
import type { MismatchSubject, StackUnderTest } from "./mismatches.js";

type Started = StackUnderTest & { stop(): Promise<void> };

async function started(options: StackOptions): Promise<Started> {
  const output: string[] = [];
  const stack = await startStack({ ...options, port: 0, lambdaPort: 0, onOutput: (line) => output.push(line) });
  return { stack, output, stop: () => stack.stop() };
}

/**
 * `main` first: with the embedded provider it starts the provider (from `realmFile`) that the
 * others then find at the issuer, as `npm start` finds a running Keycloak.
 */
export async function startMismatchStacks(
  options: { readonly issuer: string; readonly realmFile?: string },
  describe: Pick<MismatchSubject, "label" | "refreshTokens">,
): Promise<MismatchSubject & { stop(): Promise<void> }> {
  const stacks: Started[] = [];
  const stop = async (): Promise<void> => {
    for (const stack of stacks.reverse()) await stack.stop();
  };
  try {
    const main = await started({ issuer: options.issuer, ...(options.realmFile === undefined ? {} : { realmFile: options.realmFile }) });
    stacks.push(main);
    const issuer = main.stack.issuer;
    const wrongKind = await started({ issuer });
    stacks.push(wrongKind);
    // The realm's path on another host: 127.0.0.1 for Keycloak's localhost, which answers there too.
    const configuredIssuer = issuer.replace("//localhost:", "//127.0.0.1:");
    const otherHost = await started({ issuer, env: { KEYCLOAK_ISSUER: configuredIssuer } });
    stacks.push(otherHost);
    return { ...describe, issuer, main, wrongKind, otherHost: { ...otherHost, configuredIssuer }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
