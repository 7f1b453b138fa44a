import { createRequire } from "node:module";

// The CloudFormation resource specification as AWS publishes it, shipped in @aws-cdk/cfnspec
// (no network). Enough of a validator to catch unknown resource types, misspelt or unknown
// properties, missing required properties and values of the wrong primitive kind, recursively.

interface PropertySpec {
  Required?: boolean;
  PrimitiveType?: string;
  Type?: string;
  ItemType?: string;
  PrimitiveItemType?: string;
}
interface TypeSpec {
  Properties?: Record<string, PropertySpec>;
}
interface Specification {
  ResourceTypes: Record<string, TypeSpec>;
  PropertyTypes: Record<string, TypeSpec>;
}

const require = createRequire(import.meta.url);
const spec = (require("@aws-cdk/cfnspec") as { specification(): Specification }).specification();

const isIntrinsic = (value: unknown): boolean =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && /^(Ref|Fn::\w+|Condition)$/.test(Object.keys(value)[0] as string);

function checkPrimitive(kind: string, value: unknown, at: string): string[] {
  if (isIntrinsic(value)) return [];
  const ok: Record<string, (v: unknown) => boolean> = {
    String: (v) => typeof v === "string",
    Integer: (v) => Number.isInteger(v) || (typeof v === "string" && /^-?\d+$/.test(v)),
    Long: (v) => Number.isInteger(v) || (typeof v === "string" && /^-?\d+$/.test(v)),
    Double: (v) => typeof v === "number" || (typeof v === "string" && !Number.isNaN(Number(v))),
    Boolean: (v) => typeof v === "boolean" || v === "true" || v === "false",
    // serverless writes `Policy: ""` on a REST API without a resource policy; CloudFormation takes it.
    Json: (v) => (typeof v === "object" && v !== null) || v === "",
    Timestamp: (v) => typeof v === "string",
  };
  return (ok[kind] ?? (() => true))(value) ? [] : [`${at}: expected ${kind}, got ${JSON.stringify(value)}`];
}

function checkObject(typeName: string, typeSpec: TypeSpec | undefined, value: unknown, at: string): string[] {
  if (isIntrinsic(value)) return [];
  if (typeSpec === undefined) return [`${at}: unknown type ${typeName}`];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: expected an object of ${typeName}`];
  const properties = typeSpec.Properties ?? {};
  const problems: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.Required && !(name in value)) problems.push(`${at}: missing required ${name}`);
  }
  for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
    const property = properties[name];
    if (property === undefined) {
      problems.push(`${at}: unknown property ${name}`);
      continue;
    }
    problems.push(...checkValue(typeName.split(".")[0] as string, property, inner, `${at}.${name}`));
  }
  return problems;
}

function checkValue(resourceType: string, property: PropertySpec, value: unknown, at: string): string[] {
  if (property.PrimitiveType !== undefined) return checkPrimitive(property.PrimitiveType, value, at);
  if (isIntrinsic(value)) return [];
  if (property.Type === "List" || property.Type === "Map") {
    const items = property.Type === "List" ? (Array.isArray(value) ? value : null) : typeof value === "object" && value !== null ? Object.values(value) : null;
    if (items === null) return [`${at}: expected a ${property.Type}`];
    return items.flatMap((item, index) =>
      property.PrimitiveItemType !== undefined
        ? checkPrimitive(property.PrimitiveItemType, item, `${at}[${index}]`)
        : checkObject(`${resourceType}.${property.ItemType}`, spec.PropertyTypes[`${resourceType}.${property.ItemType}`] ?? spec.PropertyTypes[property.ItemType ?? ""], item, `${at}[${index}]`),
    );
  }
  if (property.Type !== undefined) {
    const name = `${resourceType}.${property.Type}`;
    return checkObject(name, spec.PropertyTypes[name] ?? spec.PropertyTypes[property.Type], value, at);
  }
  return [];
}

/** Every problem found in a template's resources against the resource specification; [] when valid. */
export function validateTemplate(template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }): string[] {
  return Object.entries(template.Resources).flatMap(([logicalId, resource]) => {
    const typeSpec = spec.ResourceTypes[resource.Type];
    if (typeSpec === undefined) return [`${logicalId}: unknown resource type ${resource.Type}`];
    return checkObject(resource.Type, typeSpec, resource.Properties ?? {}, logicalId);
  });
}
