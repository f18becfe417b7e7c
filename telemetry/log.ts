// The Node audit-log writer (docs/telemetry.md §3, §5): leaf objects (decision records, built by
// telemetry/record.ts) in, a directory of JSONL segments out — each leaf one JCS line chained to
// the previous one by `prev`, an RFC 6962 tree over all of them, and a signed C2SP checkpoint of
// that tree every `checkpointEvery` leaves, every `checkpointIntervalMs`, at rotation and on close.
//
//   <dir>/<name>-000001.jsonl   leaf lines ... checkpoint line      (closed: ends with a checkpoint)
//   <dir>/<name>-000002.jsonl   leaf lines ... [torn bytes]         (a crash can leave a torn tail)
//   <dir>/<name>-000003.jsonl   recovery leaf, checkpoint, leaf lines ...   (written after restart)
//
// Implementation notes:
// - Node only (node:fs, node:crypto). The hot path (append) is canonicalize, one UTF-8 encode
//   straight into the batch buffer, one node:crypto SHA-256 over those bytes (the leaf hash) and
//   one amortised tree step. Batches are written (writeSync on an O_APPEND fd) when they reach
//   `batchBytes`, and fsynced before the checkpoint that covers them (one fsync per checkpoint), so
//   a signed checkpoint never covers bytes a crash could lose.
// - open() is synchronous and never modifies an existing segment: it verifies the log with its own
//   public key (telemetry/verify.ts, the same analysis as `aegis audit verify`), refuses a log that
//   does not verify, admits torn tails with recovery leaves and always continues in a new segment.
// - Failures (any open/write/fsync error) are terminal for this AuditLog: it calls onAlarm once,
//   and append then throws (onFailure "deny") or returns without writing (onFailure "allow": the
//   record is lost). Re-open the log to resume; that admits whatever the failure tore.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, fstatSync, writeSync } from "node:fs";
import { createPrivateKey, createPublicKey, hash as nodeHash, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { canonicalize } from "./jcs.ts";
import { ed25519Signer, signCheckpoint, type NoteSigner } from "./checkpoint.ts";
import { MerkleTree } from "./merkle.ts";
import { publicKeyOf, readPrivateKey } from "./keys.ts";
import { analyzeLog, baseName, type Segment, type Sha256, type VerifySignature } from "./verify.ts";

/** Options of AuditLog.open. */
export interface AuditLogOptions {
  /** Directory of the log; created if missing. */
  dir: string;
  /** The signing key: a 32-byte Ed25519 seed, or key text (PKCS#8 PEM, private JWK, 64 hex digits). */
  key: Uint8Array | string;
  /** Segment file prefix (default `aegis`): segments are `<name>-000001.jsonl`, ... */
  name?: string;
  /** Checkpoint origin and key name (default `aegis.local/log/` + 16 hex digits of SHA-256 of the public key). */
  origin?: string;
  /** Checkpoint after this many leaves (default 1000). */
  checkpointEvery?: number;
  /** Checkpoint this often when leaves arrived since the last one (default 5000 ms; the timer does not keep the process alive). */
  checkpointIntervalMs?: number;
  /** Start a new segment once the current one reaches this size (default 64 MiB). */
  maxSegmentBytes?: number;
  /** Write buffered lines once they reach this many bytes (default 256 KiB); they are fsynced before the next checkpoint. */
  batchBytes?: number;
  /** After a failure: "deny" (default) makes append throw, "allow" keeps going without the log. */
  onFailure?: "deny" | "allow";
  /** Called once when the log fails (disk full, unwritable directory, any write error). */
  onAlarm?: (error: AuditError) => void;
  /** Called after each checkpoint is written and fsynced (to publish the note to a witness, say). */
  onCheckpoint?: (checkpoint: { note: string; size: number; segment: string }) => void;
  /** Clock in ms since the epoch (default Date.now), for the `ts` of recovery and checkpoint lines. */
  clock?: () => number;
}

// Logs a normal process exit closes (see AuditLog.open).
const openLogs = new Set<AuditLog>();
let exitHooked = false;

/** Why the log cannot be used: `unwritable` (directory or segment cannot be created/opened), `write_failed` (a write or fsync failed), `corrupt_log` (the existing log does not verify), `closed`. */
export class AuditError extends Error {
  readonly code: "unwritable" | "write_failed" | "corrupt_log" | "closed";
  constructor(code: AuditError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuditError";
    this.code = code;
  }
}

/** What append wrote: the leaf's index, its leaf hash and its line (without the newline). */
export interface AppendResult {
  seq: number;
  hash: Uint8Array;
  line: string;
}

const DEFAULTS = { name: "aegis", checkpointEvery: 1000, checkpointIntervalMs: 5000, maxSegmentBytes: 64 * 1024 * 1024, batchBytes: 256 * 1024 };
const ZERO_HASH_HEX = "0".repeat(64);
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** node:crypto SHA-256: several times faster than a JS implementation for log-line sizes. */
export const nodeSha256: Sha256 = (bytes) => nodeHash("sha256", bytes, "buffer");

/**
 * node:crypto Ed25519 verification for a trusted public key. OpenSSL rejects S >= L and compares
 * the encoding of R byte for byte; with the key fixed by the auditor that is the strict RFC 8032
 * check telemetry/keys.ts does with @noble/ed25519, about ten times faster.
 */
export function nodeVerifySignature(): VerifySignature {
  const keys = new Map<string, KeyObject>();
  return (publicKey, message, signature) => {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    const id = Buffer.from(publicKey).toString("hex");
    let key = keys.get(id);
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" });
      keys.set(id, key);
    }
    try {
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

/** The default origin of a log signed by this key: `aegis.local/log/` + the first 16 hex digits of SHA-256(public key). */
export function defaultOrigin(publicKey: Uint8Array): string {
  return "aegis.local/log/" + nodeHash("sha256", publicKey, "hex").slice(0, 16);
}

/** The segment files of log `name` in `dir`, in order (by number, so more than 6 digits sort right). */
export function listSegments(dir: string, name: string): { file: string; number: number }[] {
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d{6,})\\.jsonl$`);
  const out: { file: string; number: number }[] = [];
  for (const file of readdirSync(dir)) {
    const match = pattern.exec(file);
    if (match) out.push({ file, number: Number(match[1]) });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** The tamper-evident audit log writer. */
export class AuditLog {
  /** Leaves in the log (all segments). */
  get size(): number {
    return this.tree.size + this.pending.length;
  }
  /** Hex leaf hash of the last leaf (64 zeros for an empty log): the `prev` of the next append. */
  get prev(): string {
    return this.prevHex;
  }
  /** The failure that stopped the log, if any. */
  get failed(): AuditError | undefined {
    return this.failure;
  }
  /** The public key that verifies the checkpoints. */
  readonly publicKey: Uint8Array;
  /** The checkpoint origin. */
  readonly origin: string;

  private readonly options: Required<Omit<AuditLogOptions, "onAlarm" | "onCheckpoint" | "origin" | "key">> & Pick<AuditLogOptions, "onAlarm" | "onCheckpoint">;
  private readonly signer: NoteSigner;
  private readonly tree = new MerkleTree(nodeSha256);
  // Leaf hashes appended since the last checkpoint, folded into the tree when it is signed.
  private readonly pending: Uint8Array[] = [];
  private prevHex = ZERO_HASH_HEX;
  private fd = -1;
  private segmentNumber = 0;
  private segmentPath = "";
  private segmentBytes = 0;
  private segmentEndsWithCheckpoint = false;
  // The batch: lines encoded once, straight into this buffer, from offset 1. The byte before
  // each line (the slot at 0, or the previous line's newline) briefly holds the 0x00 leaf-hash
  // prefix, so the leaf hash is taken over the very bytes that are written.
  private batch: Buffer = Buffer.allocUnsafe(0);
  private batchEnd = 1;
  // Lines written since the last fsync.
  private unsynced = false;
  private sinceCheckpoint = 0;
  private lastNote: string | undefined;
  private failure: AuditError | undefined;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(options: AuditLogOptions, seed: Uint8Array) {
    this.options = {
      dir: options.dir,
      name: options.name ?? DEFAULTS.name,
      checkpointEvery: positive(options.checkpointEvery, DEFAULTS.checkpointEvery, "checkpointEvery"),
      checkpointIntervalMs: positive(options.checkpointIntervalMs, DEFAULTS.checkpointIntervalMs, "checkpointIntervalMs"),
      maxSegmentBytes: positive(options.maxSegmentBytes, DEFAULTS.maxSegmentBytes, "maxSegmentBytes"),
      batchBytes: positive(options.batchBytes, DEFAULTS.batchBytes, "batchBytes"),
      onFailure: options.onFailure ?? "deny",
      clock: options.clock ?? Date.now,
      onAlarm: options.onAlarm,
      onCheckpoint: options.onCheckpoint,
    };
    if (!/^[A-Za-z0-9._-]+$/.test(this.options.name)) throw new RangeError(`invalid audit log name \`${this.options.name}\`: use letters, digits, \`.\`, \`_\` and \`-\``);
    this.batch = Buffer.allocUnsafe(this.options.batchBytes + 64 * 1024);
    this.publicKey = publicKeyOf(seed);
    this.origin = options.origin ?? defaultOrigin(this.publicKey);
    this.signer = nodeSigner(this.origin, seed);
  }

  /**
   * Open (or create) the log in `options.dir`: read and verify the existing segments with this
   * key, rebuild the tree, admit a torn tail with a recovery leaf (signed at once), and continue
   * in a new segment. Throws AuditError `corrupt_log` for a log that does not verify (it is never
   * appended to), and `unwritable` when the directory or segment cannot be created — unless
   * onFailure is "allow": then it returns a failed log after calling onAlarm.
   */
  static open(options: AuditLogOptions): AuditLog {
    const seed = typeof options.key === "string" ? readPrivateKey(options.key) : options.key;
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError("the audit log key must be a 32-byte ed25519 seed or key text");
    const log = new AuditLog(options, seed);
    try {
      log.resume();
    } catch (e) {
      if (!(e instanceof AuditError)) throw e;
      if (e.code === "corrupt_log" || log.options.onFailure === "deny") {
        log.closeQuietly();
        throw e;
      }
      log.fail(e);
      return log;
    }
    const timer = setInterval(() => {
      if (log.sinceCheckpoint > 0 && !log.failure && !log.closed) log.checkpoint();
    }, log.options.checkpointIntervalMs);
    timer.unref();
    log.timer = timer;
    openLogs.add(log);
    if (openLogs.size === 1 && !exitHooked) {
      exitHooked = true;
      // "On shutdown": a normal exit (end of work, process.exit) writes each open log's final
      // checkpoint; exit handlers may only do synchronous work, which close() is. A signal's
      // default action skips this: the application's signal handler should call close().
      process.on("exit", () => {
        for (const open of [...openLogs]) open.close();
      });
    }
    return log;
  }

  /**
   * Append one leaf: sets its `seq` and `prev` (`size` and `prev` of this log; a leaf that already
   * has them is not copied), writes its JCS line (batched) and returns the
   * leaf's seq, hash and line. Throws AuditError when the log has failed and onFailure is
   * "deny" (also when this append is what failed); with "allow" a failed log returns normally
   * and the record is lost. Throws CanonicalJsonError for a leaf JSON cannot hold.
   */
  append(leaf: { type: string; [key: string]: unknown }): AppendResult {
    if (this.closed) throw new AuditError("closed", "the audit log is closed");
    if (this.failure && this.options.onFailure === "deny") throw this.failure;
    const seq = this.tree.size + this.pending.length;
    // A record built with this log's `size` and `prev` (record.ts's buildRecord takes them) is
    // written as is; any other gets them set on a copy, never on the caller's object.
    const line = canonicalize(leaf.seq === seq && leaf.prev === this.prevHex ? leaf : { ...leaf, seq, prev: this.prevHex });
    return this.appendLine(line, seq);
  }

  /**
   * Append a leaf already in canonical form (record.ts's recordJson), built with this log's
   * `size` as `seq` and `prev` as `prev`; the hot path of the bindings. Throws like append, and
   * AuditError("write_failed") when `seq` is not the log's size (the caller's view is stale).
   */
  appendCanonical(line: string, seq: number): AppendResult {
    if (this.closed) throw new AuditError("closed", "the audit log is closed");
    if (this.failure && this.options.onFailure === "deny") throw this.failure;
    const size = this.tree.size + this.pending.length;
    if (seq !== size) throw new AuditError("write_failed", `record seq ${seq} is not the next leaf (${size})`);
    return this.appendLine(line, seq);
  }

  private appendLine(line: string, seq: number): AppendResult {
    let hashHex: string;
    if (this.failure) {
      // Nothing is written any more (onFailure "allow"); the caller still gets seq, hash and line.
      hashHex = nodeHash("sha256", "\0" + line, "hex");
    } else {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      if (this.batchEnd + 3 * line.length + 1 > this.batch.length) {
        this.writeBatch(false);
        if (1 + 3 * line.length + 1 > this.batch.length) this.batch = Buffer.allocUnsafe(2 * (3 * line.length + 2));
      }
      const start = this.batchEnd;
      const length = this.batch.write(line, start, "utf8");
      const before = this.batch[start - 1];
      this.batch[start - 1] = 0x00;
      hashHex = nodeHash("sha256", this.batch.subarray(start - 1, start + length), "hex");
      this.batch[start - 1] = before;
      this.batch[start + length] = 0x0a;
      this.batchEnd = start + length + 1;
      this.segmentBytes += length + 1;
      this.segmentEndsWithCheckpoint = false;
    }
    const hash = Buffer.from(hashHex, "hex");
    // Interior hashes are paid at the checkpoint, not on the decision's path.
    this.pending.push(hash);
    this.prevHex = hashHex;
    const result = { seq, hash: new Uint8Array(hash.buffer, hash.byteOffset, 32), line };
    if (this.failure) return result;
    this.sinceCheckpoint++;
    if (this.sinceCheckpoint >= this.options.checkpointEvery || this.segmentBytes >= this.options.maxSegmentBytes) this.checkpoint();
    else if (this.batchEnd - 1 >= this.options.batchBytes) this.writeBatch(false);
    if (!this.failure && this.segmentBytes >= this.options.maxSegmentBytes) this.rotate();
    if (this.failure && this.options.onFailure === "deny") throw this.failure;
    return result;
  }

  /**
   * Write and fsync the batched lines, sign the tree and write (and fsync) the checkpoint line.
   * Returns the note, or the last note when no leaf arrived since; undefined when the log has
   * failed or is closed.
   */
  checkpoint(): string | undefined {
    if (this.closed || this.failure) return undefined;
    if (this.sinceCheckpoint === 0 && this.lastNote !== undefined) return this.lastNote;
    return this.writeCheckpoint();
  }

  /** Write the batched lines and fsync the segment (everything written so far is then durable). */
  flush(): void {
    if (this.closed || this.failure) return;
    this.writeBatch(true);
  }

  // Full batches are only written: fsync is paid once per checkpoint (flush), which is the
  // point where durability matters: a checkpoint never covers bytes a crash could still lose.
  private writeBatch(sync: boolean): void {
    if (this.batchEnd === 1) {
      if (sync && this.unsynced) this.write(new Uint8Array(0), true);
      this.unsynced = false;
      return;
    }
    const bytes = this.batch.subarray(1, this.batchEnd);
    this.batchEnd = 1;
    this.write(bytes, sync);
    this.unsynced = !sync;
  }

  /** Write the final checkpoint (every closed segment ends with one), stop the timer, close the file. Does not throw on write errors: they go to onAlarm and `failed`. */
  close(): void {
    openLogs.delete(this);
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (!this.failure && (this.sinceCheckpoint > 0 || !this.segmentEndsWithCheckpoint)) this.writeCheckpoint();
    this.closed = true;
    this.closeQuietly();
  }

  // --- internals ---

  private resume(): void {
    const { dir, name } = this.options;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new AuditError("unwritable", `cannot create the audit log directory \`${dir}\`: ${describeError(e)}`, { cause: e });
    }
    let files: { file: string; number: number }[];
    try {
      files = listSegments(dir, name);
    } catch (e) {
      throw new AuditError("unwritable", `cannot read the audit log directory \`${dir}\`: ${describeError(e)}`, { cause: e });
    }
    const segments: Segment[] = files.map(({ file }) => {
      const path = join(dir, file);
      try {
        // A symlink to a device (or a fifo) would never end: only regular files are segments.
        if (!statSync(path).isFile()) throw new AuditError("corrupt_log", `audit log segment \`${path}\` is not a regular file`);
        return { name: file, bytes: new Uint8Array(readFileSync(path)) };
      } catch (e) {
        if (e instanceof AuditError) throw e;
        throw new AuditError("unwritable", `cannot read audit log segment \`${path}\`: ${describeError(e)}`, { cause: e });
      }
    });
    const analysis = analyzeLog(segments, this.publicKey, { origin: this.origin, sha256: nodeSha256, verifySignature: nodeVerifySignature() });
    // Torn lines are expected after a crash; anything else means the log was changed: never append to it.
    const errors = analysis.result.findings.filter((f) => f.severity === "error" && f.kind !== "torn");
    if (errors.length > 0) {
      const first = errors[0];
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more; run \`aegis audit verify\`)` : "";
      throw new AuditError("corrupt_log", `the audit log in \`${dir}\` does not verify with this key: ${join(dir, first.file)}:${first.line}: ${first.kind}: ${first.message}${more}`);
    }
    const hashes = analysis.leafHashes;
    for (let i = 0; i < analysis.leafCount; i++) this.tree.append(hashes.slice(i * 32, i * 32 + 32));
    if (analysis.leafCount > 0) this.prevHex = Buffer.from(hashes.subarray((analysis.leafCount - 1) * 32, analysis.leafCount * 32)).toString("hex");
    const lastCheckpoint = analysis.checkpointLines.at(-1);
    this.sinceCheckpoint = analysis.leafCount - (lastCheckpoint?.leavesBefore ?? 0);

    this.segmentNumber = files.length > 0 ? files[files.length - 1].number : 0;
    this.openSegment();
    const unadmitted = analysis.torn.filter((t) => t.recoveredBy === undefined);
    for (const torn of unadmitted) {
      this.append({
        type: "recovery", v: 1, ts: new Date(this.options.clock()).toISOString(),
        torn: { segment: baseName(segments[torn.segment].name), line: torn.line, bytes: torn.bytes, sha256: torn.sha256 },
      });
    }
    // Sign the admission (and any unsigned leaves the crash left) right away.
    if (this.sinceCheckpoint > 0) this.writeCheckpoint();
    if (this.failure) throw this.failure;
  }

  private openSegment(): void {
    this.segmentNumber++;
    const file = `${this.options.name}-${String(this.segmentNumber).padStart(6, "0")}.jsonl`;
    const path = join(this.options.dir, file);
    let fd: number;
    try {
      fd = openSync(path, "a", 0o644);
    } catch (e) {
      throw new AuditError("unwritable", `cannot create audit log segment \`${path}\`: ${describeError(e)}`, { cause: e });
    }
    // INVARIANT: a segment is written by one writer from its first byte; appending to a file that
    // already holds data would interleave two logs.
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size > 0) {
      closeSync(fd);
      throw new AuditError("unwritable", `audit log segment \`${path}\` already exists (is another writer using \`${this.options.dir}\`?)`);
    }
    this.fd = fd;
    this.segmentPath = path;
    this.segmentBytes = 0;
    this.segmentEndsWithCheckpoint = false;
    syncDirectory(this.options.dir);
  }

  private rotate(): void {
    if (this.sinceCheckpoint > 0 || !this.segmentEndsWithCheckpoint) this.writeCheckpoint();
    if (this.failure) return;
    this.closeQuietly();
    try {
      this.openSegment();
    } catch (e) {
      this.fail(e instanceof AuditError ? e : new AuditError("unwritable", String(e)));
    }
  }

  private writeCheckpoint(): string | undefined {
    this.flush();
    if (this.failure) return undefined;
    for (const leaf of this.pending) this.tree.append(leaf);
    this.pending.length = 0;
    const size = this.tree.size;
    let note: string;
    let line: string;
    try {
      note = signCheckpoint({ origin: this.origin, size, root: this.tree.root() }, this.signer);
      line = canonicalize({ type: "checkpoint", ts: new Date(this.options.clock()).toISOString(), note });
    } catch (e) {
      this.fail(new AuditError("write_failed", `cannot sign the audit log checkpoint: ${describeError(e)}`, { cause: e }));
      return undefined;
    }
    this.write(Buffer.from(line + "\n"), true);
    if (this.failure) return undefined;
    this.segmentBytes += Buffer.byteLength(line) + 1;
    this.segmentEndsWithCheckpoint = true;
    this.sinceCheckpoint = 0;
    this.lastNote = note;
    this.options.onCheckpoint?.({ note, size, segment: baseName(this.segmentPath) });
    return note;
  }

  private write(bytes: Uint8Array, sync: boolean): void {
    try {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      if (sync) fsyncSync(this.fd);
    } catch (e) {
      this.fail(new AuditError("write_failed", `cannot write audit log segment \`${this.segmentPath}\`: ${describeError(e)}`, { cause: e }));
    }
  }

  private fail(error: AuditError): void {
    if (this.failure) return;
    this.failure = error;
    this.batchEnd = 1;
    if (this.timer) clearInterval(this.timer);
    try {
      this.options.onAlarm?.(error);
    } catch {
      // An alarm handler that throws must not turn a fail-open log into a crash.
    }
  }

  private closeQuietly(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // Nothing more can be lost: every checkpointed byte was fsynced already.
    }
    this.fd = -1;
  }
}

/** A NoteSigner whose Ed25519 signatures come from node:crypto (deterministic RFC 8032: the same bytes as @noble/ed25519, faster). */
function nodeSigner(name: string, seed: Uint8Array): NoteSigner {
  const { keyId } = ed25519Signer(name, seed);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  return { name, keyId, sign: (message) => new Uint8Array(nodeSign(null, message, key)) };
}

/** fsync a directory so a new segment's name survives a crash; file systems that cannot do it are left alone. */
function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync: nothing better to do.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) throw new RangeError(`audit log option ${what} must be a positive number, not \`${String(value)}\``);
  return value;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EIO: "i/o error",
  EISDIR: "is a directory",
  EEXIST: "file already exists",
  EBADF: "bad file descriptor",
};

/** A short lower-case reason for a failed file operation, with the errno code. */
function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && ERRNO_TEXT[code]) return `${ERRNO_TEXT[code]} (${code})`;
  const message = e instanceof Error ? e.message : String(e);
  return message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, "");
}
