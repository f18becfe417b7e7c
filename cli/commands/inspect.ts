// `aegis inspect OUT.aegis`: a bundle file in, its human-readable disassembly out
// (header, format version, digest, policies, rules, code), from the compiler's disassembler.
import { disassembleBundle } from "../../compiler/index.ts";
import { codedError, EXIT_OK, EXIT_USAGE, parseCommandArgs, UsageError, readUserFile, type CliIO, type Command } from "../io.ts";

/** The `inspect` command. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "print a bundle's header, digest, rules and disassembly",
  help: `usage: aegis inspect OUT.aegis

Print a human-readable view of a bundle: header, format version, digest,
signature, policies, rules and the disassembly of their bytecode. The bundle
is validated first; a malformed one is reported with its error code.

options:
  -h, --help   show this help

exit: 0 ok; 2 unreadable or invalid bundle, or usage error
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, {}, io);
    if (args === null) return EXIT_OK;
    if (args.positionals.length !== 1) throw new UsageError("expected exactly one bundle file");
    const path = args.positionals[0];
    const bytes = readUserFile(io, path, "bundle");
    let text: string;
    try {
      text = disassembleBundle(bytes);
    } catch (e) {
      const error = codedError(e);
      if (error === null) throw e;
      io.stderr(`aegis inspect: invalid bundle \`${path}\`: ${error.message} (${error.code})\n`);
      return EXIT_USAGE;
    }
    io.stdout(text.endsWith("\n") ? text : `${text}\n`);
    return EXIT_OK;
  },
};
