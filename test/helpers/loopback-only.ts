/**
 * Every test file runs with the network off: a TCP connection to anything but this machine's
 * loopback fails at once (the stub realms, the embedded provider and serverless-offline all listen
 * on 127.0.0.1). A test that would reach out is a test that passes only on a connected machine.
 */
import net from "node:net";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i;

const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function loopbackOnly(this: net.Socket, ...args: unknown[]): net.Socket {
  const [first, second] = args;
  const options = typeof first === "object" && first !== null && !Array.isArray(first) ? (first as { host?: string; path?: string }) : undefined;
  // Unix sockets (a `path`, or a string first argument) never leave the machine.
  const host =
    options !== undefined
      ? options.path !== undefined
        ? "localhost"
        : (options.host ?? "localhost")
      : typeof first === "number"
        ? typeof second === "string"
          ? second
          : "localhost"
        : "localhost";
  if (!LOOPBACK.test(host)) throw new Error(`tests run with the network off: refused a connection to ${host}`);
  return connect.apply(this, args);
} as typeof net.Socket.prototype.connect;
