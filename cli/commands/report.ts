// `aegis report LOG...`: audit-log segments (a directory or files, docs/telemetry.md §3) in, the
// shadow-rollout and operations report out: Markdown on stdout, optionally a self-contained HTML
// page (--html) or the summary as JSON (--json). Lines are streamed from disk in chunks, so a log
// of any size is read in constant memory (telemetry/report.ts keeps counters, not records).
import { closeSync, openSync, readdirSync, readSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkOrReport } from "../build.ts";
import { DEFAULT_THRESHOLD, DEFAULT_TOP, parseInstant, renderHtml, renderMarkdown, summarizeLog, type RuleScope } from "../../telemetry/report.ts";
import { describeFsError, EXIT_OK, parseCommandArgs, readSources, UsageError, type CliIO, type Command } from "../io.ts";

/** The `report` command. */
export const reportCommand: Command = {
  name: "report",
  summary: "summarize an audit log: shadow rollout, denials, approvals, egress",
  help: `usage: aegis report LOG... [--html FILE] [--since TIME] [--until TIME]

Summarize decision records of an audit log (docs/telemetry.md): decisions by
outcome, policy version and host; the shadow rollout (would-deny counts and
rates by rule and agent, rules above the review threshold flagged); blocked
egress; approvals requested; denials; redactions; request errors. LOG is a log
directory (every *.jsonl segment in name order) or segment files. Prints
Markdown; docs/reports.md explains every section.

options:
  --html FILE       also write the report as one self-contained HTML page
  --json            print the summary as JSON instead of Markdown
  --since TIME      only decisions at or after TIME (ISO 8601, e.g. 2026-11-20 or
                    2026-11-20T08:00:00Z; without an offset, UTC)
  --until TIME      only decisions before TIME
  --policy FILE     policy files of the bundle that wrote the log (repeatable):
                    count each rule's evaluations exactly from its selectors
  --threshold PCT   would-deny rate above which a rule or agent is flagged
                    (default ${DEFAULT_THRESHOLD * 100})
  --top N           rows per table (default ${DEFAULT_TOP})
  -h, --help        show this help

exit: 0 report written; 2 usage error or unreadable log
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, {
      html: { type: "string" },
      json: { type: "boolean" },
      since: { type: "string" },
      until: { type: "string" },
      policy: { type: "string", multiple: true },
      threshold: { type: "string" },
      top: { type: "string" },
    }, io);
    if (args === null) return EXIT_OK;
    const { values, positionals } = args;
    if (positionals.length === 0) throw new UsageError("no log given");
    const since = instantOption(values.since as string | undefined, "--since");
    const until = instantOption(values.until as string | undefined, "--until");
    if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since \`${values.since}\` is not before --until \`${values.until}\``);
    const threshold = numberOption(values.threshold as string | undefined, "--threshold", 0, 100);
    const top = numberOption(values.top as string | undefined, "--top", 1, 100_000);
    if (top !== undefined && !Number.isInteger(top)) throw new UsageError(`--top \`${values.top}\` is not a whole number`);
    const rules = values.policy === undefined ? undefined : policyRules(io, values.policy as string[]);

    const files = segmentFiles(io, positionals);
    const summary = summarizeLog(logLines(files), {
      since,
      until,
      ...(threshold !== undefined ? { threshold: threshold / 100 } : {}),
      ...(top !== undefined ? { top } : {}),
      ...(rules !== undefined ? { rules } : {}),
    });
    if (typeof values.html === "string") {
      try {
        writeFileSync(resolve(io.cwd, values.html), renderHtml(summary));
      } catch (e) {
        throw new UsageError(`cannot write \`${values.html}\`: ${describeFsError(e)}`);
      }
    }
    io.stdout(values.json === true ? JSON.stringify(summary, null, 2) + "\n" : renderMarkdown(summary));
    return EXIT_OK;
  },
};

function instantOption(text: string | undefined, name: string): string | undefined {
  if (text === undefined) return undefined;
  try {
    return parseInstant(text, name);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function numberOption(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${name} \`${text}\` must be a number from ${min} to ${max}`);
  }
  return value;
}

/** The selectors of every rule in the policy files (agent-centric entries desugared, as the log names them). */
function policyRules(io: CliIO, paths: string[]): RuleScope[] {
  const bundle = checkOrReport(readSources(io, paths), io.stderr);
  if (bundle === null) throw new UsageError("the --policy files have errors");
  return bundle.rules.map((rule) => ({ id: rule.id, agents: rule.agents, tools: rule.tools, actions: rule.actions }));
}

/**
 * `name-000002.jsonl` before `name-000010.jsonl` before `name-1000000.jsonl`: segment numbers
 * compare as numbers (they grow past 6 digits), everything else as text.
 */
export function compareSegmentNames(a: string, b: string): number {
  const x = /^(.*?)(\d+)\.jsonl$/.exec(a);
  const y = /^(.*?)(\d+)\.jsonl$/.exec(b);
  if (x !== null && y !== null && x[1] === y[1]) {
    const [m, n] = [x[2].replace(/^0+/, ""), y[2].replace(/^0+/, "")];
    if (m.length !== n.length) return m.length - n.length;
    if (m !== n) return m < n ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Expand LOG arguments: a directory is its `*.jsonl` segments in order, a file is itself. */
function segmentFiles(io: CliIO, paths: string[]): { path: string; shown: string }[] {
  const files: { path: string; shown: string }[] = [];
  for (const shown of paths) {
    const path = resolve(io.cwd, shown);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (e) {
      throw new UsageError(`cannot read log \`${shown}\`: ${describeFsError(e)}`);
    }
    if (!isDirectory) {
      files.push({ path, shown });
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(path).filter((name) => name.endsWith(".jsonl"));
    } catch (e) {
      throw new UsageError(`cannot read log directory \`${shown}\`: ${describeFsError(e)}`);
    }
    if (names.length === 0) throw new UsageError(`no \`*.jsonl\` segments in \`${shown}\``);
    names.sort(compareSegmentNames);
    for (const name of names) files.push({ path: join(path, name), shown: join(shown, name) });
  }
  return files;
}

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Every line of the files in order, without its `\n`. A last line without `\n` (a torn write)
 * is still yielded: the report counts it as unparsable rather than hiding it.
 */
function* logLines(files: { path: string; shown: string }[]): Generator<string> {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(file.path, "r");
    } catch (e) {
      throw new UsageError(`cannot read log \`${file.shown}\`: ${describeFsError(e)}`);
    }
    try {
      let carry: Buffer | null = null;
      for (;;) {
        let read: number;
        try {
          read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
        } catch (e) {
          throw new UsageError(`cannot read log \`${file.shown}\`: ${describeFsError(e)}`);
        }
        if (read === 0) break;
        let start = 0;
        for (let end = chunk.indexOf(NEWLINE, 0); end !== -1 && end < read; end = chunk.indexOf(NEWLINE, start)) {
          if (carry !== null) {
            yield Buffer.concat([carry, chunk.subarray(start, end)]).toString("utf8");
            carry = null;
          } else {
            yield chunk.toString("utf8", start, end);
          }
          start = end + 1;
        }
        if (start < read) {
          const rest = Buffer.from(chunk.subarray(start, read));
          carry = carry === null ? rest : Buffer.concat([carry, rest]);
        }
      }
      if (carry !== null && carry.length > 0) yield carry.toString("utf8");
    } finally {
      closeSync(fd);
    }
  }
}
