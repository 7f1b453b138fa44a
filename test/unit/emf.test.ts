import { describe, expect, test } from "@jest/globals";
import { emfCounter } from "../../lib/operations/emf.js";

describe("EMF counts", () => {
  test("one document per count, in Powertools' singleMetric shape: service first among the dimensions, unit Count", () => {
    const lines: string[] = [];
    const count = emfCounter({ namespace: "Ns", service: "svc", env: {}, write: (line) => lines.push(line), now: () => 1234 });
    count("Refused", { reason: "malformed_token", realm: "demo" }, 3);
    count("RevocationFailOpen", {});
    expect(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        _aws: {
          Timestamp: 1234,
          CloudWatchMetrics: [{ Namespace: "Ns", Dimensions: [["service", "reason", "realm"]], Metrics: [{ Name: "Refused", Unit: "Count" }] }],
        },
        service: "svc",
        reason: "malformed_token",
        realm: "demo",
        Refused: 3,
      },
      {
        _aws: {
          Timestamp: 1234,
          CloudWatchMetrics: [{ Namespace: "Ns", Dimensions: [["service"]], Metrics: [{ Name: "RevocationFailOpen", Unit: "Count" }] }],
        },
        service: "svc",
        RevocationFailOpen: 1,
      },
    ]);
  });

  test("POWERTOOLS_METRICS_DISABLED=true writes nothing, as with Powertools", () => {
    const lines: string[] = [];
    emfCounter({ namespace: "Ns", service: "svc", env: { POWERTOOLS_METRICS_DISABLED: "TRUE" }, write: (line) => lines.push(line) })("Allowed", {});
    expect(lines).toEqual([]);
  });
});
