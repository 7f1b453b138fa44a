import type { RealmKey } from "../tokens.js";
import type { ChildMessage, ChildStart, ParentMessage } from "./protocol.js";

export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) return reject(new Error("bench/child runs under npm run bench only (no IPC channel)"));
    process.send(message, undefined, {}, (error) => (error === null ? resolve() : reject(error)));
  });
}

/** Progress for the bench's stderr: never the child's own stdout/stderr, which are being counted. */
export function progress(message: string): void {
  void send({ type: "progress", message });
}

const waiting = new Map<string, (key: RealmKey) => void>();
let started: ((start: ChildStart) => void) | undefined;
const startPromise = new Promise<ChildStart>((resolve) => (started = resolve));

process.on("message", (message: ParentMessage) => {
  if (message.type === "start") started?.(message.start);
  else if (message.type === "realm") {
    waiting.get(message.key.realm)?.(message.key);
    waiting.delete(message.key.realm);
  }
});

export const startMessage = (): Promise<ChildStart> => startPromise;

/** A further realm served by the bench's local Keycloak stand-in (created on first request). */
export function requestRealm(name: string): Promise<RealmKey> {
  return new Promise((resolve) => {
    waiting.set(name, resolve);
    void send({ type: "realm?", name });
  });
}
