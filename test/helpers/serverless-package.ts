import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PackagedService {
  /** The `--package` folder: zips and CloudFormation templates. */
  readonly dir: string;
  /** cloudformation-template-update-stack.json, parsed. */
  readonly template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>; Outputs?: Record<string, unknown> };
  remove(): Promise<void>;
}

/**
 * `serverless package` into a fresh folder, without AWS credentials or network, as CI and a user
 * before `deploy` would run it. Its own esbuild work folder keeps parallel runs apart.
 */
export async function packageService(args: string[] = [], env: Record<string, string> = {}): Promise<PackagedService> {
  const dir = await mkdtemp(join(tmpdir(), "sls-package-"));
  const workFolder = `.esbuild-package-${process.pid}-${Date.now()}`;
  try {
    await run(process.execPath, ["node_modules/serverless/bin/serverless.js", "package", "--package", dir, ...args], {
      env: {
        ...process.env,
        KEYCLOAK_ISSUER: "https://keycloak.example.com/realms/demo",
        ...env,
        ESBUILD_WORK_FOLDER: workFolder,
        SLS_TELEMETRY_DISABLED: "1",
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } finally {
    await rm(workFolder, { recursive: true, force: true });
  }
  const template = JSON.parse(await readFile(join(dir, "cloudformation-template-update-stack.json"), "utf8")) as PackagedService["template"];
  return { dir, template, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Resources of one CloudFormation type. */
export function resourcesOf(template: PackagedService["template"], type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([name, resource]) => [name, resource.Properties]);
}

/** `GET /reports/{id}` keys of a REST API's methods (OPTIONS left out), paths rebuilt from the Resource tree. */
export function restRouteKeys(template: PackagedService["template"]): Array<{ key: string; authorization: unknown }> {
  const resources = new Map(resourcesOf(template, "AWS::ApiGateway::Resource"));
  const pathOf = (ref: unknown): string => {
    const name = (ref as { Ref?: string }).Ref;
    if (name === undefined) return ""; // Fn::GetAtt RootResourceId
    const resource = resources.get(name);
    if (resource === undefined) throw new Error(`unknown resource ${name}`);
    return `${pathOf(resource.ParentId)}/${String(resource.PathPart)}`;
  };
  return resourcesOf(template, "AWS::ApiGateway::Method")
    .filter(([, method]) => method.HttpMethod !== "OPTIONS")
    .map(([, method]) => ({ key: `${String(method.HttpMethod)} ${pathOf(method.ResourceId) || "/"}`, authorization: method.AuthorizationType }));
}
