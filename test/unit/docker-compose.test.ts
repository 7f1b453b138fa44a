/** docker-compose.yml runs a pinned Keycloak 26 that imports the demo realm, with a working health check. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";

interface Service {
  image: string;
  command: string[];
  environment: Record<string, string>;
  ports: string[];
  volumes: string[];
  healthcheck: { test: string[]; interval?: string; retries?: number };
}

const root = process.cwd();
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8")) as { services: Record<string, Service> };
const keycloak = compose.services.keycloak;
if (!keycloak) throw new Error("docker-compose.yml has no keycloak service");

/** Runs the health check's shell command with its management port swapped for a local test server's. */
async function runHealthcheck(status: number): Promise<number> {
  const server: Server = createServer((req, res) => {
    res.statusCode = req.url === "/health/ready" ? status : 404;
    res.end(JSON.stringify({ status: status === 200 ? "UP" : "DOWN" }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  try {
    const { port } = server.address() as AddressInfo;
    const [kind, shell, flag, script = ""] = (keycloak as NonNullable<typeof keycloak>).healthcheck.test;
    expect([kind, shell, flag]).toEqual(["CMD", "bash", "-c"]);
    // Compose turns `$$` into `$` before running the command.
    const command = script.replaceAll("$$", "$").replace("/dev/tcp/127.0.0.1/9000", `/dev/tcp/127.0.0.1/${port}`);
    return await new Promise<number>((done, fail) => {
      const child = spawn("bash", ["-c", command], { stdio: "ignore" });
      child.once("error", fail);
      child.once("exit", (code) => done(code ?? -1));
    });
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
  }
}

describe("docker-compose.yml", () => {
  it("pins a Keycloak 26.x.y image", () => {
    expect(keycloak.image).toMatch(/^quay\.io\/keycloak\/keycloak:26\.\d+\.\d+$/);
  });

  it("starts in dev mode importing the realm", () => {
    expect(keycloak.command).toEqual(["start-dev", "--import-realm"]);
  });

  it("publishes 8080 and mounts the realm files (demo, then acme) read-only into the import directory", () => {
    expect(keycloak.ports).toEqual(["8080:8080"]);
    expect(keycloak.volumes).toHaveLength(2);
    for (const [i, name] of ["realm-demo.json", "realm-acme.json"].entries()) {
      const [source, target, mode] = (keycloak.volumes[i] ?? "").split(":");
      expect(target).toBe(`/opt/keycloak/data/import/${name}`);
      expect(mode).toBe("ro");
      expect(resolve(root, source ?? "")).toBe(join(root, "keycloak", name));
      expect(existsSync(resolve(root, source ?? ""))).toBe(true);
    }
  });

  it("bootstraps the admin with overridable defaults, a fixed hostname and health enabled", () => {
    expect(keycloak.environment).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own variable syntax, as written in the file
      KC_BOOTSTRAP_ADMIN_USERNAME: "${KEYCLOAK_ADMIN:-admin}",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own variable syntax, as written in the file
      KC_BOOTSTRAP_ADMIN_PASSWORD: "${KEYCLOAK_ADMIN_PASSWORD:-admin}",
      KC_HOSTNAME: "http://localhost:8080",
      KC_HEALTH_ENABLED: "true",
    });
  });

  it("health-checks /health/ready on the management port without curl", () => {
    const script = keycloak.healthcheck.test.join(" ");
    expect(script).toContain("/dev/tcp/127.0.0.1/9000");
    expect(script).toContain("GET /health/ready");
    expect(script).not.toMatch(/\b(curl|wget)\b/);
  });

  it("has a health check command that passes on 200 and fails otherwise", async () => {
    await expect(runHealthcheck(200)).resolves.toBe(0);
    await expect(runHealthcheck(503)).resolves.not.toBe(0);
  });
});
