/** Decisions of the authorizer as (level, message, fields) calls, the way its log lines read. */
import { decisionFields, type DecisionObserver, type LogFields } from "../../lib/operations/decision-log.js";

export type LogCall = (level: "DEBUG" | "INFO" | "WARN" | "ERROR", message: string, fields: LogFields) => void;

export function loggingObserver(log: LogCall): DecisionObserver {
  return {
    // Allowed requests write no log line at the default level: none here either.
    allowed() {},
    refused(decision) {
      log("WARN", "request refused", decisionFields(decision, "deny"));
    },
    failed(decision) {
      log("ERROR", "authorizer failure", { ...decisionFields(decision, "error"), detail: decision.error.message });
    },
  };
}
