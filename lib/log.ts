/**
 * One JSON object per line on stdout/stderr, which CloudWatch Logs indexes as fields.
 * Callers pass reason codes and identifiers only: never a token, a secret or a whole claims set.
 */
export type LogRecord = Readonly<Record<string, string | number | boolean | undefined>>;
export type Logger = (level: "DEBUG" | "INFO" | "WARN" | "ERROR", message: string, fields: LogRecord) => void;

export const jsonLogger: Logger = (level, message, fields) => {
  if (level === "DEBUG") return;
  const line = JSON.stringify({ level, message, ...fields, timestamp: new Date().toISOString() });
  if (level === "ERROR") console.error(line);
  else console.log(line);
};
