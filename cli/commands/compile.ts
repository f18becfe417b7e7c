// `aegis compile FILE... -o OUT.aegis [--key KEY]`: policy files in, a (signed) bundle file out.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { compileOrReport } from "../build.ts";
import { decodeUtf8, describeFsError, EXIT_FAILED, EXIT_OK, parseCommandArgs, readSources, readUserFile, UsageError, type CliIO, type Command } from "../io.ts";
import { parsePrivateKey } from "../keys.ts";

/** The `compile` command. */
export const compileCommand: Command = {
  name: "compile",
  summary: "compile (and sign) policy files into a bundle",
  help: `usage: aegis compile FILE... -o OUT.aegis [--key KEY]

Compile one or more policy files into one bundle. Policy names, rule ids and
versions must not clash across the files. Every error is printed as
file:line:col: message, followed by a count line.

options:
  -o, --out OUT.aegis   bundle file to write (required)
  --key KEY             sign the bundle with this Ed25519 private key file
                        (PEM PKCS#8, JWK, or 64 hex characters of the seed);
                        \`aegis keygen\` makes one
  -h, --help            show this help

exit: 0 written; 1 policy errors; 2 usage or I/O error
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, { out: { type: "string", short: "o" }, key: { type: "string" } }, io);
    if (args === null) return EXIT_OK;
    const out = args.values.out as string | undefined;
    if (out === undefined) throw new UsageError("missing `-o OUT.aegis`");
    const keyPath = args.values.key as string | undefined;
    // Read the key before compiling, so a bad key is reported even when the policies have errors.
    const privateKey = keyPath === undefined ? undefined : parsePrivateKey(decodeUtf8(readUserFile(io, keyPath, "key file"), keyPath), `\`${keyPath}\``);
    const sources = readSources(io, args.positionals);
    const bundle = compileOrReport(sources, io.stderr, privateKey);
    if (bundle === null) return EXIT_FAILED;
    try {
      writeFileSync(resolve(io.cwd, out), bundle);
    } catch (e) {
      throw new UsageError(`cannot write \`${out}\`: ${describeFsError(e)}`);
    }
    io.stdout(`wrote ${out} (${bundle.length} bytes${privateKey ? ", signed" : ", unsigned"})\n`);
    return EXIT_OK;
  },
};
