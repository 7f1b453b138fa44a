/**
 * The warm scenarios, in run order. A scenario is one file exporting a `Scenario`
 * (bench/child/harness.ts); add it here and `npm run bench` runs it, BENCH_ONLY=<name> alone.
 */
import type { Scenario } from "../child/harness.js";
import { distinctHttp } from "./distinct-http.js";
import { distinctRest } from "./distinct-rest.js";
import { dpop } from "./dpop.js";
import { realms } from "./realms.js";
import { reject } from "./reject.js";
import { repeated } from "./repeated.js";
import { revocationDistinct, revocationRepeated } from "./revocation.js";

export const SCENARIOS: readonly Scenario[] = [distinctHttp, distinctRest, repeated, reject, revocationRepeated, revocationDistinct, dpop, realms];
