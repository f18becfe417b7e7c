// `aegis check FILE...`: policy files in, `ok: N rules in M policies` or every policy error out.
import { checkOrReport } from "../build.ts";
import { EXIT_FAILED, EXIT_OK, parseCommandArgs, plural, readSources, type CliIO, type Command } from "../io.ts";

/** The `check` command. */
export const checkCommand: Command = {
  name: "check",
  summary: "check policy files without writing a bundle",
  help: `usage: aegis check FILE...

Parse and type-check policy files as \`aegis compile\` would, without writing a
bundle. Prints \`ok: N rules in M policies\` (N counts rules after the
agent-centric form is desugared) or every error as file:line:col: message.

options:
  -h, --help   show this help

exit: 0 ok; 1 policy errors; 2 usage or I/O error
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, {}, io);
    if (args === null) return EXIT_OK;
    const sources = readSources(io, args.positionals);
    const bundle = checkOrReport(sources, io.stderr);
    if (bundle === null) return EXIT_FAILED;
    io.stdout(`ok: ${plural(bundle.rules.length, "rule")} in ${plural(bundle.policies.length, "policy").replace(/policys$/, "policies")}\n`);
    return EXIT_OK;
  },
};
