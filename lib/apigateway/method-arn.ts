/** execute-api ARNs: the one parser of a `methodArn`, and the ARNs of routes in a stage. */

/** `arn:aws:execute-api:region:account:apiId`, the stage, and the request's method and path. */
export interface MethodArn {
  readonly api: string;
  readonly stage: string;
  readonly method: string;
  /** Without the leading slash; "" for the root resource. */
  readonly path: string;
}

const METHOD_ARN = /^(arn:aws[\w-]*:execute-api:[\w-]+:[^:]+:[^/]+)\/([^/]+)\/([A-Z*]+)\/(.*)$/;

/**
 * @example
 * parseMethodArn("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/reports/1")
 * // { api: "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage: "dev", method: "GET", path: "reports/1" }
 */
export function parseMethodArn(methodArn: string): MethodArn | undefined {
  const match = METHOD_ARN.exec(methodArn);
  if (match === null) return undefined;
  const [, api, stage, method, path] = match as unknown as [string, string, string, string, string];
  return { api, stage, method, path };
}

/** `GET/reports/*`: the part of a route's ARN after the stage; path parameters become `*`. */
export function routeResource(route: { readonly method: string; readonly path: string }): string {
  return `${route.method}/${route.path.replace(/^\//, "").replace(/\{[^}]+\}/g, "*")}`;
}

/** The execute-api ARN (pattern) of a route in the stage of `arn`. */
export function routeArn(arn: Pick<MethodArn, "api" | "stage">, route: { readonly method: string; readonly path: string }): string {
  return `${arn.api}/${arn.stage}/${routeResource(route)}`;
}
