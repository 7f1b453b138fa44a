/**
 * The revocation store on DynamoDB: what every Lambda instance reads, since instances share no
 * memory. One table, partition key `pk` (string), three kinds of item:
 *
 * | `pk` | written when | `revokedAt` | read by |
 * |---|---|---|---|
 * | `sid#<issuer>#<sid>` | a logout token with `sid`: that session ended | the logout token's `iat` | the authorizer |
 * | `sub#<issuer>#<sub>` | a logout token without `sid`: every token of the subject issued at or before `revokedAt` | the logout token's `iat` (the largest one kept) | the authorizer |
 * | `jti#<issuer>#<jti>` | a logout token was accepted (replays are refused) | its `iat` | the receiver (conditional write) |
 *
 * Every key names the realm's issuer (which has no `#`): with many realms, a realm's admin can
 * import users with chosen ids, so a `sub` (or a `sid`) is only unique within its realm, and one
 * realm's logout must never end another realm's sessions.
 *
 * Every item has `expiresAt` (epoch seconds), the table's TTL attribute, so the table never grows
 * without bound. DynamoDB deletes expired items lazily (typically within days) and a local
 * DynamoDB-compatible server may never delete them, so expired items are ignored on read: nothing
 * here depends on when, or whether, they are deleted.
 *
 * The AWS SDK is imported on first use (`import()`): the Lambda runtime ships it, the bundles
 * exclude it, and an authorizer without revocation never loads it.
 */
import type { AttributeValue, DynamoDBClient, PutItemCommandInput } from "@aws-sdk/client-dynamodb";

export interface RevocationStoreOptions {
  readonly table: string;
  /** A DynamoDB-compatible endpoint (local runs); AWS's regional endpoint when unset. */
  readonly endpoint?: string | undefined;
  /** Budget of one request, retries included. */
  readonly timeoutMs: number;
  /** Seconds since the epoch; tests drive it. */
  readonly nowSeconds?: () => number;
}

/** What the authorizer may do: read. */
export interface RevocationReader {
  /** The `revokedAt` of each of `keys` that is revoked and not expired; absent keys are not revoked. */
  read(keys: readonly string[]): Promise<Map<string, number>>;
  /** Load the SDK and build the client ahead of the first request. */
  warm(): Promise<void>;
}

/** What the back-channel logout receiver may do: write. */
export interface RevocationWriter {
  /** The session `sid` of the realm `issuer` ended at `at`; kept until `keepUntil`. */
  revokeSession(issuer: string, sid: string, at: number, keepUntil: number): Promise<void>;
  /** Every token of `sub` issued at or before `before` is revoked; a later cut-off already recorded wins. */
  revokeSubject(issuer: string, sub: string, before: number, keepUntil: number): Promise<void>;
  /** Records `jti`; false when it was recorded before (a replay). */
  claimJti(issuer: string, jti: string, at: number, keepUntil: number): Promise<boolean>;
  warm(): Promise<void>;
}

export const sessionKey = (issuer: string, sid: string): string => `sid#${issuer}#${sid}`;
export const subjectKey = (issuer: string, sub: string): string => `sub#${issuer}#${sub}`;
const jtiKey = (issuer: string, jti: string): string => `jti#${issuer}#${jti}`;

type Sdk = typeof import("@aws-sdk/client-dynamodb");

export function createRevocationStore(options: RevocationStoreOptions): RevocationReader & RevocationWriter {
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  let loaded: Promise<{ sdk: Sdk; client: DynamoDBClient }> | undefined;
  const load = (): Promise<{ sdk: Sdk; client: DynamoDBClient }> => {
    loaded ??= import("@aws-sdk/client-dynamodb").then((sdk) => ({
      sdk,
      client: new sdk.DynamoDBClient({
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        // One retry: the request budget (timeoutMs) bounds the whole exchange anyway.
        maxAttempts: 2,
      }),
    }));
    // A failed import is not remembered: the next call tries again.
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };
  const within = (): { abortSignal: AbortSignal } => ({ abortSignal: AbortSignal.timeout(options.timeoutMs) });
  const put = async (input: Omit<PutItemCommandInput, "TableName">): Promise<void> => {
    const { sdk, client } = await load();
    await client.send(new sdk.PutItemCommand({ TableName: options.table, ...input }), within());
  };
  const item = (pk: string, at: number, keepUntil: number): Record<string, AttributeValue> => ({
    pk: { S: pk },
    revokedAt: { N: String(at) },
    expiresAt: { N: String(keepUntil) },
  });
  const conditionFailed = (error: unknown): boolean => (error as { name?: unknown }).name === "ConditionalCheckFailedException";

  return {
    async warm() {
      await load();
    },
    async read(keys) {
      const found = new Map<string, number>();
      if (keys.length === 0) return found;
      const { table } = options;
      const { sdk, client } = await load();
      const answer = await client.send(
        new sdk.BatchGetItemCommand({
          // Strongly consistent: a logout written a moment ago is seen by the next lookup.
          RequestItems: { [table]: { Keys: keys.map((pk) => ({ pk: { S: pk } })), ConsistentRead: true } },
        }),
        within(),
      );
      // Throttled keys come back unprocessed: their answer is unknown, which is not "not revoked".
      if (answer.UnprocessedKeys !== undefined && Object.keys(answer.UnprocessedKeys).length > 0) {
        throw new Error("the revocation store left keys unprocessed (throttled)");
      }
      const now = nowSeconds();
      for (const entry of answer.Responses?.[table] ?? []) {
        const pk = entry.pk?.S;
        const revokedAt = Number(entry.revokedAt?.N);
        const expiresAt = Number(entry.expiresAt?.N);
        if (pk === undefined || !Number.isFinite(revokedAt)) continue;
        // Past its TTL: gone, whether or not the store has deleted it yet.
        if (Number.isFinite(expiresAt) && expiresAt <= now) continue;
        found.set(pk, revokedAt);
      }
      return found;
    },
    async revokeSession(issuer, sid, at, keepUntil) {
      await put({ Item: item(sessionKey(issuer, sid), at, keepUntil) });
    },
    async revokeSubject(issuer, sub, before, keepUntil) {
      try {
        await put({
          Item: item(subjectKey(issuer, sub), before, keepUntil),
          // Never move a cut-off back: a delayed or replayed earlier logout changes nothing.
          ConditionExpression: "attribute_not_exists(pk) OR revokedAt < :before OR expiresAt <= :now",
          ExpressionAttributeValues: { ":before": { N: String(before) }, ":now": { N: String(nowSeconds()) } },
        });
      } catch (error) {
        if (!conditionFailed(error)) throw error;
      }
    },
    async claimJti(issuer, jti, at, keepUntil) {
      try {
        await put({
          Item: item(jtiKey(issuer, jti), at, keepUntil),
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt <= :now",
          ExpressionAttributeValues: { ":now": { N: String(nowSeconds()) } },
        });
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },
  };
}
