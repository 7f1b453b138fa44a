import { jest } from "@jest/globals";

export interface CapturedOutput {
  /** Everything written to stdout and stderr since capture began. */
  text(): string;
  /** How many bytes were written. */
  bytes(): number;
  /** The JSON lines among it: Powertools log records and EMF metric documents. */
  records(): Array<Record<string, unknown>>;
}

/** Capture stdout and stderr (where Powertools writes); undone by `jest.restoreAllMocks()`. */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  jest.spyOn(process.stdout, "write").mockImplementation(capture);
  jest.spyOn(process.stderr, "write").mockImplementation(capture);
  return {
    text: () => chunks.join(""),
    bytes: () => chunks.reduce((total, chunk) => total + Buffer.byteLength(chunk), 0),
    records: () =>
      chunks
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
