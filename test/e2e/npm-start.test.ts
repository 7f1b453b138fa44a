/**
 * `npm start` as a newcomer runs it: one command, a ready line with a curl example, a working API,
 * and Ctrl-C (SIGINT to the foreground process group) leaving no process and no port behind.
 */
import { expect, test } from "@jest/globals";
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "../../local/stack.js";
import { passwordTokens } from "../helpers/oidc-client.js";

async function portClosed(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch (error) {
    return String((error as { cause?: { code?: string } }).cause?.code) === "ECONNREFUSED";
  }
}

test("npm start serves the API with the embedded provider, and Ctrl-C stops all of it", async () => {
  const [port, lambdaPort, providerPort] = [await freePort(), await freePort(), await freePort()];
  const issuer = `http://localhost:${providerPort}/realms/demo`;
  const child = spawn("npm", ["start"], {
    env: { ...process.env, PORT: String(port), LAMBDA_PORT: String(lambdaPort), KEYCLOAK_ISSUER: issuer },
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      // The curl example is the last line printed; it may arrive in a later chunk than "ready in".
      if (output.includes("ready in") && output.includes("--user alice)")) resolve();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", () => reject(new Error(`npm start exited early:\n${output}`)));
  });
  try {
    await ready;
    expect(output).toContain(`provider: embedded OpenID provider`);
    expect(output).toContain(`GET http://localhost:${port}/dev/secured`);
    // Not the default issuer: the printed command names it, so that npm run token finds the realm.
    expect(output).toContain(`curl -H "Authorization: Bearer $(KEYCLOAK_ISSUER=${issuer} npm run -s token -- --user alice)" http://localhost:${port}/secured`);

    const alice = await passwordTokens(issuer, "alice");
    const response = await fetch(`http://localhost:${port}/secured`, { headers: { authorization: `Bearer ${alice.access_token}` } });
    expect(response.status).toBe(200);

    // A refused request: one short line with its reason code, no stack trace, no library warning.
    const before = output.length;
    const refused = await fetch(`http://localhost:${port}/dev/secured`, { headers: { authorization: "Bearer not.a.jwt" } });
    expect(refused.status).toBe(401);
    const lineDeadline = Date.now() + 5000;
    while (!output.slice(before).includes("malformed_token") && Date.now() < lineDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const after = output
      .slice(before)
      .split("\n")
      .filter((line) => line.trim() !== "");
    expect(after).toEqual(["401 GET /secured [REST]  malformed_token"]);
    expect(output).not.toContain("Unhandled exception");
    expect(output).not.toContain("WARNING");
    expect(output).not.toContain('"_aws"');

    const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(String(code ?? signal))));
    process.kill(-(child.pid as number), "SIGINT");
    // npm re-raises the signal it got; the start script itself exits 0 after stopping everything.
    expect(["0", "SIGINT"]).toContain(await exited);
  } finally {
    // On a failed assertion the stack is still up: Ctrl-C first (the start script stops what it
    // started, serverless-offline included), then make sure.
    if (child.exitCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-(child.pid as number), "SIGINT");
      } catch {
        // already stopped
      }
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // already stopped, as it should be
    }
  }
  // The start script may still be closing what it started when npm returns: allow it a moment.
  const deadline = Date.now() + 10_000;
  const closed = async (): Promise<boolean> => (await Promise.all([port, lambdaPort, providerPort].map(portClosed))).every(Boolean);
  while (!(await closed()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await closed()).toBe(true);
  const leftovers = execFileSync("ps", ["-eo", "args"])
    .toString()
    .split("\n")
    .filter((line) => line.includes(`.esbuild-${port}`) || line.includes(`PORT=${port}`));
  expect(leftovers).toEqual([]);
  expect(existsSync(`.esbuild-${port}`)).toBe(false);
}, 120_000);
