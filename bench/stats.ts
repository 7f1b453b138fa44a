/** One benchmark figure: the median of its runs, and of a baseline's runs taken in the same process. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What `baseline` measures, e.g. "crypto.verify ops/s". */
  readonly baselineName: string;
  readonly baseline: number;
  /** value / baseline. */
  readonly ratio: number;
  readonly runs: readonly number[];
  readonly baselineRuns: readonly number[];
  /** The goal from the issue, when there is one, in words. */
  readonly target?: string;
  readonly met?: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function figure(
  name: string,
  unit: string,
  runs: readonly number[],
  baselineName: string,
  baselineRuns: readonly number[],
  goal?: { target: string; met: (value: number, baseline: number) => boolean },
): Figure {
  const value = median(runs);
  const baseline = median(baselineRuns);
  return {
    name,
    value,
    unit,
    baselineName,
    baseline,
    ratio: value / baseline,
    runs,
    baselineRuns,
    ...(goal === undefined ? {} : { target: goal.target, met: goal.met(value, baseline) }),
  };
}

/** Three significant digits at most, no exponent: stable to read and to diff. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** `name value unit baseline ratio`: the one line per figure the issue asks for. */
export function formatLine(f: Figure): string {
  return `${f.name} ${formatNumber(f.value)} ${f.unit} ${formatNumber(f.baseline)} ${f.ratio.toFixed(2)}`;
}

/** Progress and context go to stderr, so stdout holds only figure lines. */
export function progress(message: string): void {
  process.stderr.write(`# ${message}\n`);
}
