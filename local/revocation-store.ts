/**
 * The local stand-in for the revocation table: dynalite (a DynamoDB-compatible server from npm,
 * in memory; DynamoDB Local's licence rules it out) on a free loopback port, behind a small proxy
 * that counts requests by operation and can play an outage. The table is created as
 * serverless.yml declares it (`pk` string key, on-demand). Functions reach it with the real AWS
 * SDK through KEYCLOAK_REVOCATION_ENDPOINT, exactly as they reach DynamoDB on AWS.
 *
 * Where dynalite differs from DynamoDB: it has no TTL (UpdateTimeToLive is unknown to it, so
 * expired items are never deleted). The code never depends on deletion: expired items are
 * ignored on read, as they must be on DynamoDB too, which deletes them lazily.
 */
import { createServer, request as forward, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BillingMode, CreateTableCommand, DynamoDBClient, ScanCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";

/** Fake credentials for the local server (it checks none); set for the functions by the local stack. */
export const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_REGION: "eu-west-1",
  // The SDK warns once per process on Node 20 (it will need Node 22 from 2027; Lambda runs nodejs22.x).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
} as const;

// This process's own client (table creation, tests) need not warn either.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface LocalRevocationStore {
  readonly endpoint: string;
  readonly table: string;
  /** Requests served, by operation (`BatchGetItem`, `PutItem`, ...). */
  count(operation: string): number;
  /** false: every request is refused with a 503, as during an outage. */
  setAvailable(available: boolean): void;
  /** Every item, as `pk` -> attributes (for tests). */
  items(): Promise<Map<string, Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startRevocationStore(options: { table?: string } = {}): Promise<LocalRevocationStore> {
  const table = options.table ?? "revocations";
  const backend = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await listen(backend, 0);
  const backendPort = (backend.address() as AddressInfo).port;
  const counts = new Map<string, number>();
  let available = true;
  const front = createServer((incoming, response) => {
    const operation = String(incoming.headers["x-amz-target"] ?? "").split(".")[1] ?? "?";
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    if (!available) {
      incoming.resume();
      response.writeHead(503, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify({ __type: "ServiceUnavailable", message: "outage" }));
      return;
    }
    const upstream = forward({ host: "127.0.0.1", port: backendPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on("error", () => response.destroy());
    incoming.pipe(upstream);
  });
  await listen(front, 0);
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    try {
      await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } }));
    } catch {
      // dynalite has no TTL: expired items stay, and readers ignore them (see above).
    }
  } catch (error) {
    client.destroy();
    await Promise.all([close(front), close(backend)]);
    throw error;
  }
  for (const key of [...counts.keys()]) counts.delete(key);
  return {
    endpoint,
    table,
    count: (operation) => counts.get(operation) ?? 0,
    setAvailable(value) {
      available = value;
    },
    async items() {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
      return new Map(
        Items.map((entry) => [String(entry.pk?.S), Object.fromEntries(Object.entries(entry).map(([name, value]) => [name, value.S ?? Number(value.N)]))]),
      );
    },
    async close() {
      client.destroy();
      await Promise.all([close(front), close(backend)]);
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
