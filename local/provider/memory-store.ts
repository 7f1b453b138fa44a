/**
 * The provider's state (sessions, grants, codes, refresh tokens) in this process's memory, as
 * Keycloak dev mode keeps it: lost on restart, which is what a local stand-in wants. It is ours
 * rather than oidc-provider's built-in quick-start adapter so that one store outlives the provider
 * instances that key rotation swaps in, and so the library has nothing to warn about.
 */
import type { Adapter, AdapterPayload } from "oidc-provider";

interface Stored {
  payload: AdapterPayload;
  /** Milliseconds since the epoch; undefined: no expiry. */
  expiresAt: number | undefined;
}

/** Models whose records belong to a grant, so revoking the grant removes them. */
const GRANTABLE = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);

export class MemoryStore {
  private readonly records = new Map<string, Stored>();

  /** oidc-provider's `adapter` option: a factory of one adapter per model. */
  adapterFactory(): (model: string) => Adapter {
    return (model) => this.adapter(model);
  }

  private adapter(model: string): Adapter {
    const key = (id: string): string => `${model}:${id}`;
    const find = async (id: string | undefined): Promise<AdapterPayload | undefined> => (id === undefined ? undefined : this.get(key(id)));
    return {
      upsert: async (id, payload, expiresIn) => {
        this.records.set(key(id), { payload, expiresAt: expiresIn !== undefined && expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined });
      },
      find,
      findByUid: async (uid) => this.findWhere(model, (payload) => payload.uid === uid),
      findByUserCode: async (userCode) => this.findWhere(model, (payload) => payload.userCode === userCode),
      consume: async (id) => {
        const record = this.get(key(id));
        if (record !== undefined) record.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.records.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [name, record] of this.records) {
          if (GRANTABLE.has(name.slice(0, name.indexOf(":"))) && record.payload.grantId === grantId) this.records.delete(name);
        }
      },
    };
  }

  private get(name: string): AdapterPayload | undefined {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.records.delete(name);
      return undefined;
    }
    return record.payload;
  }

  private findWhere(model: string, matches: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const name of this.records.keys()) {
      if (!name.startsWith(`${model}:`)) continue;
      const payload = this.get(name);
      if (payload !== undefined && matches(payload)) return payload;
    }
    return undefined;
  }
}
