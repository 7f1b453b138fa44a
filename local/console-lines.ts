/**
 * What `npm start` shows of serverless-offline's output: one short line per refused or failed
 * request, with its reason code, instead of JSON log lines, EMF metrics documents and
 * serverless-offline's "Unhandled exception in handler 'authorizer'" with a stack trace (its
 * reaction to the `Unauthorized` error that API Gateway itself turns into a 401). Everything else
 * serverless-offline prints that looks like a problem still shows; VERBOSE=1 shows it all raw.
 */

interface LogFields {
  level?: unknown;
  message?: unknown;
  event?: unknown;
  route?: unknown;
  reason?: unknown;
  detail?: unknown;
  hint?: unknown;
  violations?: unknown;
  _aws?: unknown;
}

const API_KIND: Record<string, string> = { "rest-token": "REST", "rest-request": "REST", "http-v2": "HTTP API" };

/** A stateful filter: feed it every line, print what it returns. */
export function createConsoleFilter(): (line: string) => string | undefined {
  // serverless-offline names the route before it runs the authorizer; the "no header" refusal
  // that follows does not repeat it.
  let authorizerRoute = "";
  let inAuthorizerTrace = false;

  return (line) => {
    const text = line.trim();
    if (text === "") return undefined;
    if (text.startsWith("{")) {
      inAuthorizerTrace = false;
      return fromJson(text);
    }
    const running = /^Running Authorization function for (\w+) (\S+)/.exec(text);
    if (running !== null) {
      authorizerRoute = `${(running[1] ?? "").toUpperCase()} ${running[2] ?? ""}`;
      return undefined;
    }
    if (/^× Identity Source is null for header authorization/i.test(text)) {
      return `401 ${authorizerRoute}  missing_token  (no Authorization header: answered by API Gateway, the authorizer is not called)`;
    }
    if (text.startsWith("× Unhandled exception in handler 'authorizer'")) {
      inAuthorizerTrace = true;
      return undefined;
    }
    // The error the authorizer throws for API Gateway, printed with its stack or (stackless) in
    // brackets. serverless-offline prints it on stderr, our log lines go to stdout: the two may
    // interleave, so the exact refusal is dropped wherever it lands.
    if (/^× \[?Error: Unauthorized\]?$/.test(text)) return undefined;
    if (inAuthorizerTrace && (text.startsWith("× Error:") || text.startsWith("× [Error:") || text.startsWith("at "))) return undefined;
    inAuthorizerTrace = false;
    if (text.startsWith("Authorization function returned an error response")) return undefined;
    // Anything else serverless-offline flags as a problem (a bundling error, a crash of another
    // function) is worth seeing.
    if (text.startsWith("×") || /\b(error|warning)\b/i.test(text)) return text;
    return undefined;
  };
}

function fromJson(text: string): string | undefined {
  let fields: LogFields;
  try {
    fields = JSON.parse(text) as LogFields;
  } catch {
    return text;
  }
  if (typeof fields !== "object" || fields === null || fields._aws !== undefined) return undefined; // EMF metrics
  const line = shortLine(fields, text);
  // A hint names the fix (lib/operations/hints.ts): on a line of its own, under the refusal.
  return typeof fields.hint === "string" ? `${line}\n      hint: ${fields.hint}` : line;
}

function shortLine(fields: LogFields, text: string): string {
  const route = typeof fields.route === "string" ? fields.route : "";
  const kind = typeof fields.event === "string" ? (API_KIND[fields.event] ?? fields.event) : "";
  const reason = typeof fields.reason === "string" ? fields.reason : "";
  const where = [route, kind === "" ? "" : `[${kind}]`].filter(Boolean).join(" ");
  switch (fields.message) {
    case "request refused":
      return `401 ${where}  ${reason}`;
    case "request forbidden":
      return `403 ${where}  ${reason}`;
    case "authorizer failure":
      return `500 ${where}  ${reason}${typeof fields.detail === "string" ? `: ${fields.detail}` : ""}`;
    case "authorizer answer API Gateway would refuse":
      return `500 ${where}  ${reason}: on AWS this answer is a 500 (${typeof fields.violations === "string" ? fields.violations : "see VERBOSE=1"})`;
    default: {
      const level = typeof fields.level === "string" ? fields.level : "INFO";
      const message = typeof fields.message === "string" ? fields.message : text;
      return `${level} ${message}${reason === "" ? "" : `  ${reason}`}`;
    }
  }
}
