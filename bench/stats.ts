/**
 * Figures: one printed line each, `name value unit baseline ratio [target met|missed] [range]`.
 * A figure named `a/b` is `a` measured against baseline `b` in the same process and rounds; its
 * ratio is the median of the per-round ratios (paired, so drift between rounds cancels), which can
 * differ a little from value / baseline (each the median of its own runs).
 */

export interface Target {
  /** Compared against the ratio or against the value itself. */
  readonly on: "ratio" | "value";
  readonly op: "<=" | "<" | "==" | ">=";
  readonly limit: number;
  /** A stretch goal: printed, but not counted as a miss. */
  readonly stretch?: boolean;
}

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly ratio?: number;
  /** Smallest and largest per-round ratio. */
  readonly ratioRange?: readonly [number, number];
  readonly target?: Target;
  readonly met?: boolean;
  readonly runs: readonly number[];
  readonly baselineRuns?: readonly number[];
  /** What the figure is, for the results file. */
  readonly about?: string;
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] as number;
}

export function check(target: Target, value: number): boolean {
  if (Number.isNaN(value)) return false;
  switch (target.op) {
    case "<=":
      return value <= target.limit;
    case "<":
      return value < target.limit;
    case ">=":
      return value >= target.limit;
    case "==":
      return value === target.limit;
  }
}

export interface FigureInput {
  readonly name: string;
  readonly unit: string;
  readonly runs: readonly number[];
  /** Same length as runs, round for round, when there is a baseline. */
  readonly baselineRuns?: readonly number[];
  readonly target?: Target;
  readonly about?: string;
  /** The value: the median of the runs (default), or the largest (for counts that must hold in every run). */
  readonly aggregate?: "median" | "max";
}

export function figure(input: FigureInput): Figure {
  const value = input.aggregate === "max" ? Math.max(...input.runs) : median(input.runs);
  const base = input.baselineRuns;
  let extra: Pick<Figure, "baseline" | "ratio" | "ratioRange" | "baselineRuns"> = {};
  if (base !== undefined && base.length > 0) {
    const paired = input.runs.length === base.length;
    const ratios = paired ? input.runs.map((v, i) => v / (base[i] as number)) : [value / median(base)];
    extra = { baseline: median(base), ratio: median(ratios), ratioRange: [Math.min(...ratios), Math.max(...ratios)], baselineRuns: base };
  }
  const target = input.target;
  const checked = target === undefined ? undefined : check(target, target.on === "ratio" ? (extra.ratio ?? Number.NaN) : value);
  return {
    name: input.name,
    value,
    unit: input.unit,
    ...extra,
    ...(target === undefined ? {} : { target, met: checked as boolean }),
    runs: input.runs,
    ...(input.about === undefined ? {} : { about: input.about }),
  };
}

/** Three significant digits at most, no exponent: stable to read and to diff. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined) return "-";
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function formatTarget(f: Figure): string {
  if (f.target === undefined) return "";
  const t = f.target;
  const status = f.met === true ? "met" : t.stretch === true ? "missed(stretch)" : "missed";
  return `${t.stretch === true ? "stretch:" : ""}${t.on}${t.op}${String(t.limit)} ${status}`;
}

export const HEADER = ["figure", "value", "unit", "baseline", "ratio", "target", "ratio-range"] as const;
const WIDTHS = [46, 9, 7, 9, 6, 26];

function columns(cells: readonly string[]): string {
  return cells
    .map((cell, i) => {
      const width = WIDTHS[i];
      if (width === undefined) return cell;
      return i === 0 || i === 2 || i === 5 ? cell.padEnd(width) : cell.padStart(width);
    })
    .join(" ")
    .trimEnd();
}

/** One figure line, columns aligned; `-` where a figure has no baseline or ratio. */
export function formatLine(f: Figure): string {
  const range = f.ratioRange === undefined || f.ratioRange[0] === f.ratioRange[1] ? "" : `${f.ratioRange[0].toFixed(2)}..${f.ratioRange[1].toFixed(2)}`;
  return columns([
    f.name,
    formatNumber(f.value),
    f.unit,
    formatNumber(f.baseline),
    f.ratio === undefined ? "-" : f.ratio.toFixed(2),
    formatTarget(f) || "-",
    range,
  ]);
}

export function formatHeader(): string {
  return columns(HEADER);
}

/** Progress goes to stderr, so stdout holds the report only. */
export function progress(message: string): void {
  process.stderr.write(`# ${message}\n`);
}
