// `aegis eval`: a bundle (from a file, or compiled in memory from policy files) and requests
// (one JSON document or JSON Lines, from --input or stdin) in; one decision JSON per request out,
// exactly the bytes the engine renders, one per line.
import type { Aegis } from "../../bindings/node/index.ts";
import { compileOrReport } from "../build.ts";
import { codedError, decodeUtf8, errorJson, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseCommandArgs, readSources, readUserFile, UsageError, type CliIO, type Command } from "../io.ts";
import { splitRequests } from "../input.ts";
import { parsePublicKey } from "../keys.ts";

/** The `eval` command. */
export const evalCommand: Command = {
  name: "eval",
  summary: "evaluate requests against a bundle or policy files",
  help: `usage: aegis eval --bundle OUT.aegis [--public-key PUB] [--input REQ.json] [--lines]
       aegis eval --policy FILE... [--input REQ.json] [--lines]

Evaluate requests and print one decision JSON per request, one per line:
exactly the canonical bytes every Aegis host returns.

Input comes from --input, else standard input. It is JSON Lines when it has
two or more non-empty lines and its first non-empty line is a complete JSON
value on its own; otherwise the whole input is one JSON document (so a
pretty-printed request works). --lines forces JSON Lines.

A request the engine rejects (invalid JSON, duplicate key, wrong shape) prints
{"error":{"code":...,"message":...,"offset":...}} in place of its decision,
a message on stderr, and evaluation continues with the next line.

options:
  --bundle FILE       bundle written by \`aegis compile\`
  --public-key PUB    verify the bundle's signature with this Ed25519 public
                      key (a file holding PEM, JWK or 64 hex characters, or the
                      64 hex characters themselves); without it the signature
                      is not checked and a warning is printed on stderr
  --policy FILE...    compile these policy files in memory instead of --bundle
  --input FILE        read requests from FILE instead of standard input
  --lines             read the input as JSON Lines whatever it looks like
  -h, --help          show this help

exit: 0 every request got a decision (allow, deny, sanitize or
approval_needed alike); 1 policy errors (--policy); 2 a bad request, a bad
bundle or signature, or a usage error
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = parseCommandArgs(this, argv, {
      bundle: { type: "string" },
      "public-key": { type: "string" },
      policy: { type: "string", multiple: true },
      input: { type: "string" },
      lines: { type: "boolean" },
    }, io);
    if (args === null) return EXIT_OK;
    const bundlePath = args.values.bundle as string | undefined;
    const policyPaths = args.values.policy as string[] | undefined;
    const publicKeyArg = args.values["public-key"] as string | undefined;
    if ((bundlePath === undefined) === (policyPaths === undefined)) throw new UsageError("give exactly one of `--bundle FILE` or `--policy FILE...`");
    if (policyPaths === undefined && args.positionals.length > 0) throw new UsageError(`unexpected argument \`${args.positionals[0]}\``);
    if (policyPaths !== undefined && publicKeyArg !== undefined) throw new UsageError("`--public-key` needs `--bundle`: in-memory bundles are not signed");

    let bundle: Uint8Array;
    let publicKey: Uint8Array | undefined;
    let bundleLabel: string;
    if (bundlePath !== undefined) {
      bundleLabel = `\`${bundlePath}\``;
      bundle = readUserFile(io, bundlePath, "bundle");
      if (publicKeyArg === undefined) io.stderr("aegis eval: warning: bundle signature not checked (no --public-key)\n");
      else publicKey = readPublicKeyArg(io, publicKeyArg);
    } else {
      // `--policy a.yaml b.yaml`: the files after the first arrive as positionals.
      const sources = readSources(io, [...policyPaths!, ...args.positionals]);
      bundleLabel = "compiled from the policy files";
      const compiled = compileOrReport(sources, io.stderr);
      if (compiled === null) return EXIT_FAILED;
      bundle = compiled;
    }

    // Read the input before loading, so a missing input file is a usage error whatever the bundle.
    const inputPath = args.values.input as string | undefined;
    const input = inputPath === undefined ? await io.readStdin() : readUserFile(io, inputPath, "input");

    let aegis: Aegis;
    try {
      aegis = await (await loadBinding()).load(bundle, publicKey ? { publicKey } : {});
    } catch (e) {
      const error = codedError(e);
      if (error === null) throw e;
      io.stdout(`${errorJson(error)}\n`);
      io.stderr(`aegis eval: cannot load bundle ${bundleLabel}: ${error.message} (${error.code})\n`);
      return EXIT_USAGE;
    }

    const requests = splitRequests(input, args.values.lines === true);
    if (requests.length === 0) throw new UsageError(`no request in ${inputPath === undefined ? "standard input" : `\`${inputPath}\``}`);
    const utf8 = new TextDecoder();
    let failed = false;
    for (const request of requests) {
      try {
        io.stdout(`${utf8.decode(aegis.evaluateBytes(request.bytes))}\n`);
      } catch (e) {
        const error = codedError(e);
        if (error === null) throw e;
        failed = true;
        io.stdout(`${errorJson(error)}\n`);
        const where = request.line === null ? "request" : `request on line ${request.line}`;
        io.stderr(`aegis eval: ${where}: ${error.message} (${error.code}${error.offset === undefined ? "" : ` at byte ${error.offset}`})\n`);
      }
    }
    return failed ? EXIT_USAGE : EXIT_OK;
  },
};

function readPublicKeyArg(io: CliIO, arg: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(arg)) return parsePublicKey(arg, "given on the command line");
  return parsePublicKey(decodeUtf8(readUserFile(io, arg, "public key file"), arg), `\`${arg}\``);
}

/** The Node binding, imported on first use so `check`/`compile`/`inspect` do not load the engine. */
async function loadBinding(): Promise<typeof Aegis> {
  return (await import("../../bindings/node/index.ts")).Aegis;
}
