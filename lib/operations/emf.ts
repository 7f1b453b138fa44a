/**
 * CloudWatch metrics as Embedded Metric Format lines on stdout: one JSON document per count, the
 * shape Powertools Metrics' `singleMetric()` writes (`_aws.CloudWatchMetrics` with the namespace,
 * one dimension set of `service` plus the given dimensions, unit Count), so dashboards and tests
 * read both alike.
 *
 * Why not Powertools Metrics itself: the authorizer only ever emits single counts with a few
 * dimensions, and the Metrics class (its stores, validation, cold-start metric) is about 15 KB of a
 * bundle that must stay under 100 KB (it is unpacked on every cold start). Honours
 * `POWERTOOLS_METRICS_DISABLED=true` as Powertools does.
 */
import type { Env } from "../config/settings.js";

/** Writes one count with its dimensions (`service` is always the first). */
export type CountMetric = (name: string, dimensions: Readonly<Record<string, string>>, amount?: number) => void;

export interface EmfOptions {
  readonly namespace: string;
  readonly service: string;
  readonly env?: Env;
  /** Where lines go; stdout by default (Lambda sends it to CloudWatch Logs, which extracts EMF). */
  readonly write?: (line: string) => void;
  /** Milliseconds since the epoch; tests drive it. */
  readonly now?: () => number;
}

export function emfCounter(options: EmfOptions): CountMetric {
  const { namespace, service, env = process.env, now = Date.now } = options;
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  if (env.POWERTOOLS_METRICS_DISABLED?.trim().toLowerCase() === "true") return () => {};
  return (name, dimensions, amount = 1) => {
    const document = {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [["service", ...Object.keys(dimensions)]], Metrics: [{ Name: name, Unit: "Count" }] }],
      },
      service,
      ...dimensions,
      [name]: amount,
    };
    write(`${JSON.stringify(document)}\n`);
  };
}
