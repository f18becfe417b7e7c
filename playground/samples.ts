// Playground build step (Node): the sample policies and requests the page embeds. Input: the repo's
// policies/<name>.yaml and their test files (docs/test-files.md). Output: a JSON-ready
// PlaygroundSamples, every policy's text with every case of its test file as request text.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { parseTestFile } from "../cli/test-file.ts";

/** One sample request: a test case of the policy's test file. */
export interface SampleRequest {
  /** The case's name in the test file. */
  name: string;
  /** The request JSON as the editor shows it. */
  text: string;
  /** What the test file expects: a decision (`deny`), `error: <code>`, or "" when its `want` names no decision. */
  expected: string;
}

/** One sample policy with its requests. */
export interface SamplePolicy {
  /** The file name the policy compiles under, as its test file names it (so fail-closed reasons match). */
  path: string;
  text: string;
  requests: SampleRequest[];
}

/** Everything the page embeds, in the order its selects list it. */
export interface PlaygroundSamples {
  policies: SamplePolicy[];
}

/** The sample policies, by file name under policies/. */
export const SAMPLE_POLICY_NAMES = ["procurement", "retail"] as const;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Read the sample policies and their test files under `repoRoot`. A case given as a YAML request is
 * shown pretty-printed (the same JSON value); a `request_json` case keeps its exact text, since it
 * exists to send bytes a pretty printer would change (duplicate keys, truncated JSON).
 */
export function loadSamples(repoRoot: string): PlaygroundSamples {
  const policies = SAMPLE_POLICY_NAMES.map((name): SamplePolicy => {
    const path = `${name}.yaml`;
    const text = readFileSync(join(repoRoot, "policies", path), "utf8");
    const testText = readFileSync(join(repoRoot, "policies", `${name}.test.yaml`), "utf8");
    const testFile = parseTestFile(testText);
    const rawCases = (parseDocument(testText, { merge: true }).toJS() as { cases: Record<string, unknown>[] }).cases;
    const requests = testFile.cases.map((c, i): SampleRequest => {
      const json = utf8.decode(c.request);
      const exact = rawCases[i].request_json !== undefined;
      return {
        name: c.name,
        text: exact ? json : JSON.stringify(JSON.parse(json), null, 2),
        expected: c.wantError !== null ? `error: ${c.wantError}` : typeof c.want?.decision === "string" ? c.want.decision : "",
      };
    });
    return { path, text, requests };
  });
  return { policies };
}
