/** The doctor's report: sections of checks, each with a status and, for a failure or warning, the fix. */

export type Status = "ok" | "FAIL" | "warn" | "info" | "skip" | "yes" | "no";

export interface Check {
  readonly status: Status;
  readonly text: string;
  /** What to change (a Keycloak or project setting), for FAIL, warn and `no`. */
  readonly fix?: string | undefined;
}

export class Report {
  private readonly out: string[] = [];
  private failed = 0;
  private warned = 0;

  constructor(private readonly write: (line: string) => void) {}

  section(title: string): void {
    this.emit("");
    this.emit(title);
  }

  add(check: Check): void {
    if (check.status === "FAIL") this.failed += 1;
    if (check.status === "warn") this.warned += 1;
    this.emit(`  ${check.status.padEnd(5)} ${check.text}`);
    if (check.fix !== undefined) this.emit(`        fix: ${check.fix}`);
  }

  line(text: string): void {
    this.emit(text);
  }

  get failures(): number {
    return this.failed;
  }

  get warnings(): number {
    return this.warned;
  }

  private emit(line: string): void {
    this.out.push(line);
    this.write(line);
  }
}
