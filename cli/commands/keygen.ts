// `aegis keygen --out NAME`: writes a fresh Ed25519 key pair as NAME.key (PKCS#8 PEM, mode 0600)
// and NAME.pub (SPKI PEM), for `aegis compile --key` and `aegis eval --public-key`.
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describeFsError, EXIT_OK, parseCommandArgs, UsageError, type CliIO, type Command } from "../io.ts";
import { generateKeyPairPem } from "../keys.ts";

/** The `keygen` command. */
export const keygenCommand: Command = {
  name: "keygen",
  summary: "generate an Ed25519 signing key pair",
  help: `usage: aegis keygen --out NAME [--force]

Generate an Ed25519 key pair for signing bundles: NAME.key (private key,
PKCS#8 PEM, file mode 0600) and NAME.pub (public key, SPKI PEM). Existing
files are not overwritten unless --force is given.

options:
  --out NAME   path prefix of the two files (required)
  --force      overwrite existing files
  -h, --help   show this help

exit: 0 written; 2 usage or I/O error
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, { out: { type: "string", short: "o" }, force: { type: "boolean" } }, io);
    if (args === null) return EXIT_OK;
    const name = args.values.out as string | undefined;
    if (name === undefined) throw new UsageError("missing `--out NAME`");
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument \`${args.positionals[0]}\``);
    if (!args.values.force) {
      for (const suffix of [".key", ".pub"]) {
        if (existsSync(resolve(io.cwd, name + suffix))) throw new UsageError(`\`${name}${suffix}\` already exists (use --force to replace it)`);
      }
    }
    const { privatePem, publicPem } = generateKeyPairPem();
    // "wx" refuses to replace an existing key: overwriting a signing key by accident is not undoable.
    const flag = args.values.force ? "w" : "wx";
    for (const [suffix, text, mode] of [[".key", privatePem, 0o600], [".pub", publicPem, 0o644]] as const) {
      try {
        writeFileSync(resolve(io.cwd, name + suffix), text, { flag, mode });
      } catch (e) {
        throw new UsageError(`cannot write \`${name}${suffix}\`: ${describeFsError(e)}`);
      }
    }
    io.stdout(`wrote ${name}.key (private, keep it secret) and ${name}.pub (public)\n`);
    return EXIT_OK;
  },
};
