// `aegis audit` (docs/telemetry.md §4, docs/audit.md): the offline auditor's commands.
//   verify LOG... --key PUB [--checkpoint NOTE] [--json]   log segments + public key -> findings, exit 0/1/2
//   prove LOG... --record N [--size M]                      log -> a self-contained inclusion proof (JSON)
//   verify-proof PROOF --key PUB                            proof + public key -> valid or not, exit 0/1/2
//   keygen --out NAME [--format pem|jwk] [--force]          -> NAME.key (0600) and NAME.pub
// The analysis itself is telemetry/verify.ts; this file reads files, picks node:crypto for speed
// and prints.
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeFsError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseCommandArgs, plural, readUserFile, UsageError, type CliIO, type Command } from "../io.ts";
import { ed25519Verifier, NoteError, openCheckpoint, parseCheckpoint } from "../../telemetry/checkpoint.ts";
import { generateKeyPair, KeyFormatError, readPublicKey, toBase64 } from "../../telemetry/keys.ts";
import { nodeSha256, nodeVerifySignature } from "../../telemetry/log.ts";
import { inclusionProof, leafHash, verifyInclusion } from "../../telemetry/merkle.ts";
import { analyzeLog, baseName, type Finding, type Segment } from "../../telemetry/verify.ts";

/** The JSON a `prove` prints and `verify-proof` reads (docs/audit.md "Proofs"). */
export interface InclusionProof {
  type: "aegis.inclusion_proof";
  v: 1;
  /** 0-based leaf index. */
  index: number;
  /** Tree size: the size of `checkpoint`. */
  size: number;
  /** The leaf's log line, without the newline. */
  leaf: string;
  /** Audit path (RFC 9162 §2.1.3), leaf to root, each node hash as 64 lower-case hex digits. */
  path: string[];
  /** The signed checkpoint note of tree `size`. */
  checkpoint: string;
  /** Where the leaf was (informational; not checked). */
  file?: string;
  line?: number;
}

const HELP = `usage: aegis audit SUBCOMMAND [ARGS...]

Check an Aegis audit log offline, with nothing but the log and its public key.

subcommands:
  verify LOG... --key PUB [--checkpoint NOTE] [--json]
                 recompute the tree, check every checkpoint and every record's
                 seq and prev; print each finding as file:line: kind: message
  prove LOG... --record N [--size M]
                 print the inclusion proof of record N in the tree of the last
                 checkpoint (or of the checkpoint of size M) as JSON
  verify-proof PROOF --key PUB
                 check a printed proof offline
  keygen --out NAME [--format pem|jwk] [--force]
                 write an Ed25519 key pair for a log: NAME.key and NAME.pub

LOG is a log directory (every *.jsonl segment in it, in name order) or segment
files. PUB is a public key file (SPKI PEM, JWK, or 64 hex digits) or the 64 hex
digits themselves. docs/audit.md explains every finding.

exit: 0 valid; 1 tampered (verify, verify-proof); 2 usage error or unreadable input
`;

const VERIFY_HELP = `usage: aegis audit verify LOG... --key PUB [--checkpoint NOTE] [--json]

Recompute the Merkle tree over every segment, check every checkpoint's
signature and root and every record's seq and prev, and report each finding as
\`file:line: kind: message\`, then a summary line.

options:
  --key PUB          the log's public key: a file (SPKI PEM, JWK, 64 hex digits)
                     or the 64 hex digits (required)
  --checkpoint NOTE  a signed checkpoint note kept outside the log (by an
                     auditor or witness): the log must extend it, so records
                     cut from its end are found
  --json             print the result as one JSON object
  -h, --help         show this help

exit: 0 valid (warnings allowed); 1 tampered; 2 usage error or unreadable input
`;

const PROVE_HELP = `usage: aegis audit prove LOG... --record N [--size M]

Print the inclusion proof of record N (its 0-based leaf index, its seq) in the
tree of the log's last checkpoint, or of its checkpoint of size M, as JSON: the
record's line, the audit path (hex) and the signed checkpoint note. Anyone with
the public key can check it with \`aegis audit verify-proof\`.

options:
  --record N   leaf index to prove (required)
  --size M     tree size of a checkpoint in the log (default: the last one)
  -h, --help   show this help

exit: 0 printed; 2 usage error, unreadable log, or no matching checkpoint
`;

const VERIFY_PROOF_HELP = `usage: aegis audit verify-proof PROOF --key PUB

Check a proof printed by \`aegis audit prove\`: the checkpoint's signature, its
size, and that hashing the record line up the audit path gives its root.

options:
  --key PUB    the log's public key (file, or 64 hex digits; required)
  -h, --help   show this help

exit: 0 valid; 1 does not verify; 2 usage error or unreadable proof
`;

const KEYGEN_HELP = `usage: aegis audit keygen --out NAME [--format pem|jwk] [--force]

Write an Ed25519 key pair for signing an audit log's checkpoints: NAME.key
(PKCS#8 PEM or private JWK, file mode 0600) and NAME.pub (SPKI PEM or public
JWK). Both are what jose's importPKCS8/importSPKI/importJWK read.

options:
  --out NAME       path prefix of the two files (required)
  --format FORMAT  pem (default) or jwk
  --force          overwrite existing files
  -h, --help       show this help

exit: 0 written; 2 usage or I/O error
`;

type Subcommand = Command;

const verifySubcommand: Subcommand = {
  name: "audit verify",
  summary: "verify an audit log",
  help: VERIFY_HELP,
  async run(argv, io) {
    const args = parseCommandArgs(this, argv, { key: { type: "string" }, checkpoint: { type: "string" }, json: { type: "boolean" } }, io);
    if (args === null) return EXIT_OK;
    const publicKey = readKeyArg(io, args.values.key as string | undefined);
    const segments = readSegments(io, args.positionals);
    const checkpointPath = args.values.checkpoint as string | undefined;
    const checkpoint = checkpointPath === undefined ? undefined : decodeText(readUserFile(io, checkpointPath, "checkpoint"), checkpointPath);
    const { result } = analyzeLog(segments, publicKey, {
      checkpoint, checkpointFile: checkpointPath, sha256: nodeSha256, verifySignature: nodeVerifySignature(),
    });
    if (args.values.json) {
      const last = result.lastCheckpoint;
      io.stdout(JSON.stringify({
        ok: result.ok, leaves: result.leaves, checkpoints: result.checkpoints,
        lastCheckpoint: last ? { origin: last.origin, size: last.size, root: toBase64(last.root) } : null,
        findings: result.findings,
      }) + "\n");
    } else {
      for (const f of result.findings) io.stdout(formatFinding(f) + "\n");
      const errors = result.findings.filter((f) => f.severity === "error").length;
      const warnings = result.findings.length - errors;
      const last = result.lastCheckpoint;
      const counts = `${plural(result.leaves, "record")}, ${plural(result.checkpoints, "checkpoint")}`;
      const head = result.ok ? "ok" : `tampered: ${plural(errors, "error")}`;
      const tail = last ? `last verified checkpoint: size ${last.size}, root ${toBase64(last.root)}` : "no verified checkpoint";
      io.stdout(`${head}${warnings > 0 ? `, ${plural(warnings, "warning")}` : ""}; ${counts}; ${tail}\n`);
    }
    return result.ok ? EXIT_OK : EXIT_FAILED;
  },
};

const proveSubcommand: Subcommand = {
  name: "audit prove",
  summary: "print the inclusion proof of a record",
  help: PROVE_HELP,
  async run(argv, io) {
    const args = parseCommandArgs(this, argv, { record: { type: "string" }, size: { type: "string" } }, io);
    if (args === null) return EXIT_OK;
    if (args.values.record === undefined) throw new UsageError("missing `--record N`");
    const index = parseCount(args.values.record as string, "--record");
    const wanted = args.values.size === undefined ? undefined : parseCount(args.values.size as string, "--size");
    const segments = readSegments(io, args.positionals);
    // No key here: the proof carries the signed note, and its reader checks the signature.
    const analysis = analyzeLog(segments, undefined, { sha256: nodeSha256 });
    const candidates = analysis.checkpointLines.filter((c) => c.checkpoint !== undefined);
    let chosen;
    if (wanted === undefined) {
      chosen = candidates.filter((c) => c.good).sort((a, b) => a.checkpoint!.size - b.checkpoint!.size).at(-1);
      if (chosen === undefined) throw new UsageError("the log has no checkpoint that matches its records: nothing can be proven");
    } else {
      const ofSize = candidates.filter((c) => c.checkpoint!.size === wanted);
      chosen = ofSize.find((c) => c.good);
      if (chosen === undefined) {
        const sizes = [...new Set(candidates.filter((c) => c.good).map((c) => c.checkpoint!.size))].join(", ");
        throw new UsageError(ofSize.length > 0
          ? `the checkpoint of size ${wanted} does not match the log's records`
          : `the log has no checkpoint of size ${wanted} (checkpointed sizes: ${sizes || "none"})`);
      }
    }
    const size = chosen.checkpoint!.size;
    if (index >= size) throw new UsageError(`record ${index} is not covered by the checkpoint of size ${size}${wanted === undefined ? " (the last one)" : ""}`);
    const errors = analysis.result.findings.filter((f) => f.severity === "error" && f.kind !== "bad_signature");
    if (errors.length > 0) {
      io.stderr(`aegis audit prove: warning: the log has ${plural(errors.length, "finding")} (run \`aegis audit verify\`); the proof is against its checkpoint of size ${size}, which matches\n`);
    }
    const hashes = Array.from({ length: size }, (_, i) => analysis.leafHashes.subarray(i * 32, i * 32 + 32));
    const where = analysis.leaf(index);
    const proof: InclusionProof = {
      type: "aegis.inclusion_proof", v: 1, index, size,
      leaf: analysis.leafLine(index),
      path: inclusionProof(hashes, index, size).map(hex),
      checkpoint: chosen.note!,
      file: segments[where.segment].name,
      line: where.line,
    };
    io.stdout(JSON.stringify(proof, null, 2) + "\n");
    return EXIT_OK;
  },
};

const verifyProofSubcommand: Subcommand = {
  name: "audit verify-proof",
  summary: "check a printed inclusion proof",
  help: VERIFY_PROOF_HELP,
  async run(argv, io) {
    const args = parseCommandArgs(this, argv, { key: { type: "string" } }, io);
    if (args === null) return EXIT_OK;
    if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? "missing the proof file" : `unexpected argument \`${args.positionals[1]}\``);
    const publicKey = readKeyArg(io, args.values.key as string | undefined);
    const path = args.positionals[0];
    const proof = readProof(decodeText(readUserFile(io, path, "proof"), path), path);
    const problem = checkProof(proof, publicKey);
    if (problem !== null) {
      io.stdout(`proof does not verify: ${problem}\n`);
      return EXIT_FAILED;
    }
    const origin = parseCheckpoint(proof.checkpoint).checkpoint.origin;
    io.stdout(`ok: record ${proof.index} is leaf ${proof.index} of the ${proof.size}-leaf tree of \`${origin}\`, signed by this key\n`);
    return EXIT_OK;
  },
};

const keygenSubcommand: Subcommand = {
  name: "audit keygen",
  summary: "write an Ed25519 key pair for an audit log",
  help: KEYGEN_HELP,
  async run(argv, io) {
    const args = parseCommandArgs(this, argv, { out: { type: "string", short: "o" }, format: { type: "string" }, force: { type: "boolean" } }, io);
    if (args === null) return EXIT_OK;
    const name = args.values.out as string | undefined;
    if (name === undefined) throw new UsageError("missing `--out NAME`");
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument \`${args.positionals[0]}\``);
    const format = (args.values.format as string | undefined) ?? "pem";
    if (format !== "pem" && format !== "jwk") throw new UsageError(`unknown key format \`${format}\`: expected pem or jwk`);
    const force = args.values.force === true;
    if (!force) {
      for (const suffix of [".key", ".pub"]) {
        if (existsSync(resolve(io.cwd, name + suffix))) throw new UsageError(`\`${name}${suffix}\` already exists (use --force to replace it)`);
      }
    }
    const pair = generateKeyPair(format);
    for (const [suffix, text, mode] of [[".key", pair.privateText, 0o600], [".pub", pair.publicText, 0o644]] as const) {
      const target = resolve(io.cwd, name + suffix);
      try {
        // "wx" refuses to replace a key by accident; mode applies only to a new file, hence the chmod.
        writeFileSync(target, text, { flag: force ? "w" : "wx", mode });
        chmodSync(target, mode);
      } catch (e) {
        throw new UsageError(`cannot write \`${name}${suffix}\`: ${describeFsError(e)}`);
      }
    }
    io.stdout(`wrote ${name}.key (private, keep it secret) and ${name}.pub (public)\n`);
    return EXIT_OK;
  },
};

const SUBCOMMANDS: Subcommand[] = [verifySubcommand, proveSubcommand, verifyProofSubcommand, keygenSubcommand];

/** The `audit` command: dispatches to its subcommands; usage and read errors exit 2 with a message. */
export const auditCommand: Command = {
  name: "audit",
  summary: "verify an audit log, prove records, make log keys",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined) {
      io.stderr(HELP);
      return EXIT_USAGE;
    }
    if (name === "--help" || name === "-h" || name === "help") {
      io.stdout(HELP);
      return EXIT_OK;
    }
    const sub = SUBCOMMANDS.find((s) => s.name === `audit ${name}`);
    if (sub === undefined) {
      io.stderr(`aegis audit: unknown subcommand \`${name}\` (run \`aegis audit --help\`)\n`);
      return EXIT_USAGE;
    }
    try {
      return await sub.run(rest, io);
    } catch (e) {
      if (e instanceof UsageError) {
        io.stderr(`aegis ${sub.name}: ${e.message}\n`);
        return EXIT_USAGE;
      }
      throw e;
    }
  },
};

// --- helpers ---

/** `file:line: kind: message`, warnings marked. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.kind}: ${f.message}${f.severity === "warning" ? " (warning)" : ""}`;
}

/** Read a `--key` value: a key file (PEM, JWK, hex) or 64 hex digits given inline. */
function readKeyArg(io: CliIO, value: string | undefined): Uint8Array {
  if (value === undefined) throw new UsageError("missing `--key PUB` (the log's public key)");
  const inline = /^[0-9a-fA-F]{64}$/.test(value) && !existsSync(resolve(io.cwd, value));
  const text = inline ? value : decodeText(readUserFile(io, value, "public key"), value);
  try {
    return readPublicKey(text);
  } catch (e) {
    if (e instanceof KeyFormatError) throw new UsageError(`cannot read public key \`${value}\`: ${e.message}`);
    throw e;
  }
}

/** Expand LOG arguments (directories hold `*.jsonl` segments) and read every segment, sorted by file name. */
function readSegments(io: CliIO, paths: string[]): Segment[] {
  if (paths.length === 0) throw new UsageError("no log given (a log directory or segment files)");
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(resolve(io.cwd, path)).isDirectory();
    } catch (e) {
      throw new UsageError(`cannot read log \`${path}\`: ${describeFsError(e)}`);
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    const names = readdirSync(resolve(io.cwd, path)).filter((n) => n.endsWith(".jsonl"));
    if (names.length === 0) throw new UsageError(`no \`*.jsonl\` segments in \`${path}\``);
    for (const n of names) files.push(join(path, n));
  }
  const unique = [...new Map(files.map((f) => [resolve(io.cwd, f), f])).values()];
  unique.sort(compareSegmentNames);
  return unique.map((file) => {
    // A device or fifo (a symlink to /dev/zero, say) would be read forever.
    let regular = true;
    try {
      regular = statSync(resolve(io.cwd, file)).isFile();
    } catch {
      // readUserFile reports it.
    }
    if (!regular) throw new UsageError(`log segment \`${file}\` is not a regular file`);
    return { name: file, bytes: readUserFile(io, file, "log segment") };
  });
}

/** Order by file name, numbering compared as numbers (`aegis-1000000.jsonl` after `aegis-999999.jsonl`). */
export function compareSegmentNames(a: string, b: string): number {
  const pa = /^(.*?)(\d+)\.jsonl$/.exec(baseName(a));
  const pb = /^(.*?)(\d+)\.jsonl$/.exec(baseName(b));
  if (pa && pb && pa[1] === pb[1]) return Number(pa[2]) - Number(pb[2]) || (a < b ? -1 : a > b ? 1 : 0);
  const na = baseName(a);
  const nb = baseName(b);
  return na < nb ? -1 : na > nb ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

function readProof(text: string, path: string): InclusionProof {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`\`${path}\` is not a proof: not valid JSON`);
  }
  const bad = (what: string): never => {
    throw new UsageError(`\`${path}\` is not an aegis inclusion proof: ${what}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("expected a JSON object");
  const p = value as Record<string, unknown>;
  if (p.type !== "aegis.inclusion_proof" || p.v !== 1) bad("`type` must be `aegis.inclusion_proof` and `v` 1");
  if (!Number.isSafeInteger(p.index) || (p.index as number) < 0) bad("`index` must be a non-negative integer");
  if (!Number.isSafeInteger(p.size) || (p.size as number) < 1) bad("`size` must be a positive integer");
  if (typeof p.leaf !== "string") bad("`leaf` must be the record line");
  if (!Array.isArray(p.path) || !p.path.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h))) bad("`path` must be a list of 64-digit lower-case hex hashes");
  if (typeof p.checkpoint !== "string") bad("`checkpoint` must be the signed note");
  return p as unknown as InclusionProof;
}

/** null when the proof holds, else why not. */
export function checkProof(proof: InclusionProof, publicKey: Uint8Array): string | null {
  let origin: string;
  try {
    origin = parseCheckpoint(proof.checkpoint).checkpoint.origin;
  } catch (e) {
    return `the checkpoint is malformed: ${(e as Error).message}`;
  }
  let checkpoint;
  try {
    checkpoint = openCheckpoint(proof.checkpoint, ed25519Verifier(origin, publicKey));
  } catch (e) {
    if (e instanceof NoteError && e.code === "unknown_key") return "the checkpoint is not signed by this key";
    return `the checkpoint's signature does not verify (${(e as Error).message})`;
  }
  if (checkpoint.size !== proof.size) return `the proof is for a tree of ${proof.size} leaves, but its checkpoint is for ${checkpoint.size}`;
  if (proof.index >= proof.size) return `leaf ${proof.index} is outside a tree of ${proof.size} leaves`;
  if (proof.leaf.includes("\n")) return "the record line holds a newline";
  const seq = recordSeq(proof.leaf);
  if (seq !== undefined && seq !== proof.index) return `the record's \`seq\` is ${seq}, not the proof's index ${proof.index}`;
  const hash = leafHash(new TextEncoder().encode(proof.leaf));
  const path = proof.path.map(fromHexDigits);
  if (!verifyInclusion(hash, proof.index, proof.size, path, checkpoint.root)) {
    return `the record line and audit path do not lead to the checkpoint's root (the record, its index or the path was altered)`;
  }
  return null;
}

function recordSeq(line: string): number | undefined {
  try {
    const value = JSON.parse(line) as { seq?: unknown };
    return typeof value === "object" && value !== null && typeof value.seq === "number" ? value.seq : undefined;
  } catch {
    return undefined;
  }
}

function parseCount(text: string, flag: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} must be a non-negative integer, not \`${text}\``);
  return Number(text);
}

function decodeText(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`\`${path}\` is not valid UTF-8`);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

function fromHexDigits(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

