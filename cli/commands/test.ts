// `aegis test FILE...`: policy test files in (docs/test-files.md); per case an `ok`/`FAIL` line
// (with the differing fields), then a total. Each file's policies are compiled in memory and
// loaded into the Node binding, so the cases run on the same engine as production.
import { dirname, join } from "node:path";
import type { Aegis } from "../../bindings/node/index.ts";
import { compileOrReport } from "../build.ts";
import { codedError, decodeUtf8, EXIT_FAILED, EXIT_OK, parseCommandArgs, plural, readUserFile, UsageError, type CliIO, type Command } from "../io.ts";
import { diffDecision, parseTestFile, TestFileError, type TestFile } from "../test-file.ts";

/** The `test` command. */
export const testCommand: Command = {
  name: "test",
  summary: "run policy test files",
  help: `usage: aegis test FILE...

Run policy test files (YAML; format in docs/test-files.md). Each file names
its policy files (relative to the test file) and lists cases: a request and
the expected decision fields, or an expected request error code. Prints one
line per case, \`ok\` or \`FAIL\` with the fields that differ, then a total.

options:
  -h, --help   show this help

exit: 0 all cases pass; 1 a case fails, or a test or policy file has errors;
2 usage error or unreadable file
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, {}, io);
    if (args === null) return EXIT_OK;
    if (args.positionals.length === 0) throw new UsageError("no test files given");
    // Read every file first: a missing file is a usage error before any case runs.
    const texts = args.positionals.map((path) => ({ path, text: decodeUtf8(readUserFile(io, path, "test file"), path) }));
    let passed = 0;
    let failed = 0;
    let brokenFiles = 0;
    for (const { path, text } of texts) {
      const result = await runTestFile(path, text, io);
      if (result === null) {
        brokenFiles++;
        continue;
      }
      passed += result.passed;
      failed += result.failed;
    }
    const broken = brokenFiles > 0 ? `, ${plural(brokenFiles, "file")} with errors` : "";
    io.stdout(`${failed === 0 && brokenFiles === 0 ? "ok" : "FAIL"}: ${passed} passed, ${failed} failed${broken} (${plural(texts.length, "file")})\n`);
    return failed === 0 && brokenFiles === 0 ? EXIT_OK : EXIT_FAILED;
  },
};

/** Run one test file; null when the file or its policies have errors (already printed). */
async function runTestFile(path: string, text: string, io: CliIO): Promise<{ passed: number; failed: number } | null> {
  let file: TestFile;
  try {
    file = parseTestFile(text);
  } catch (e) {
    if (!(e instanceof TestFileError)) throw e;
    io.stderr(`${path}:${e.line}:${e.col}: ${e.message}\n`);
    return null;
  }
  // Sources keep the paths as the test file wrote them, so fail-closed reasons
  // (`rule x failed at procurement.yaml:3:9: ...`) do not depend on the working directory.
  const base = dirname(path);
  const sources = file.policies.map((policy) => ({
    path: policy,
    text: decodeUtf8(readUserFile(io, join(base, policy), "policy file"), policy),
  }));
  let header = false;
  const bundle = compileOrReport(sources, (t) => {
    if (!header) io.stderr(`${path}: errors in its policies (paths relative to \`${base}\`); no case was run\n`);
    header = true;
    io.stderr(t);
  });
  if (bundle === null) return null;
  const aegis = await (await loadBinding()).load(bundle);
  const utf8 = new TextDecoder();
  let passed = 0;
  let failed = 0;
  for (const testCase of file.cases) {
    const label = `${path}:${testCase.line}: ${testCase.name}`;
    let problems: string[];
    let decisionText: string | null = null;
    try {
      decisionText = utf8.decode(aegis.evaluateBytes(testCase.request));
      const decision = JSON.parse(decisionText) as Record<string, unknown>;
      problems = testCase.want === null
        ? [`want error \`${testCase.wantError}\`, got decision ${JSON.stringify(decision.decision)} by rule ${JSON.stringify(decision.rule)}`]
        : diffDecision(testCase.want, decision);
    } catch (e) {
      const error = codedError(e);
      if (error === null) throw e;
      problems = testCase.wantError === error.code ? [] : [
        testCase.wantError === null
          ? `want a decision, got error \`${error.code}\`: ${error.message}`
          : `want error \`${testCase.wantError}\`, got error \`${error.code}\`: ${error.message}`,
      ];
    }
    if (problems.length === 0) {
      passed++;
      io.stdout(`ok    ${label}\n`);
    } else {
      failed++;
      io.stdout(`FAIL  ${label}\n`);
      for (const problem of problems) io.stdout(`        ${problem}\n`);
      if (decisionText !== null && testCase.want !== null) io.stdout(`        decision: ${decisionText}\n`);
    }
  }
  return { passed, failed };
}

/** The Node binding, imported on first use so `check`/`compile`/`inspect` do not load the engine. */
async function loadBinding(): Promise<typeof Aegis> {
  return (await import("../../bindings/node/index.ts")).Aegis;
}
