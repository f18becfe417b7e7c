// Tests of the audit-log writer (telemetry/log.ts) against docs/telemetry.md §3 and §5: what it
// writes verifies; checkpoints come every N leaves, on the timer, at rotation and on close; a
// reopened log continues the chain; a tampered log is refused; a SIGKILLed writer's log verifies
// up to its last checkpoint and resumes with a signed recovery leaf; disk full and unwritable
// directories fail closed or open as configured.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalize, CanonicalJsonError } from "./jcs.ts";
import { parseCheckpoint } from "./checkpoint.ts";
import { generateKeyPair } from "./keys.ts";
import { leafHash } from "./merkle.ts";
import { AuditError, AuditLog, defaultOrigin } from "./log.ts";
import { verifyLog, type Segment } from "./verify.ts";
import { linesOf, readLog, sampleLeaf, segmentOf, TEST_PUBLIC_KEY, TEST_SEED, writeTestLog } from "./testing/logs.ts";
import { makeGolden } from "./testing/make-golden.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");
let root: string;
let counter = 0;
const freshDir = (): string => join(root, `log-${++counter}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "aegis-log-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The checkpoint sizes in a segment, in order. */
function checkpointSizes(segment: Segment): number[] {
  return linesOf(segment)
    .filter((l) => l.includes('"type":"checkpoint"'))
    .map((l) => parseCheckpoint((JSON.parse(l) as { note: string }).note).checkpoint.size);
}

describe("writing", () => {
  it("writes a log that verifies, with a checkpoint every N leaves and one on close", () => {
    const dir = freshDir();
    const log = writeTestLog(dir, 95, { checkpointEvery: 10 });
    expect(log.size).toBe(95);
    const segments = readLog(dir);
    expect(segments.map((s) => s.name)).toEqual(["aegis-000001.jsonl"]);
    expect(checkpointSizes(segments[0])).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
    const result = verifyLog(segments, log.publicKey);
    expect(result).toMatchObject({ ok: true, leaves: 95, checkpoints: 10, findings: [] });
    expect(result.lastCheckpoint).toMatchObject({ origin: log.origin, size: 95 });
  });

  it("sets seq and prev, returns merkle.ts's leaf hash and the line it wrote", () => {
    const dir = freshDir();
    const log = AuditLog.open({ dir, key: TEST_SEED });
    const results = [0, 1, 2].map((i) => log.append(sampleLeaf(i)));
    log.close();
    const lines = linesOf(readLog(dir)[0]);
    let prev = "0".repeat(64);
    results.forEach((r, i) => {
      expect(r.seq).toBe(i);
      expect(r.line).toBe(lines[i]);
      expect(r.line).toBe(canonicalize({ ...sampleLeaf(i), seq: i, prev }));
      expect(new Uint8Array(r.hash)).toEqual(leafHash(new TextEncoder().encode(r.line)));
      prev = Buffer.from(r.hash).toString("hex");
    });
  });

  it("writes records larger than its batch buffer, and leaves a record built with its seq and prev as is", () => {
    const dir = freshDir();
    const log = AuditLog.open({ dir, key: TEST_SEED, batchBytes: 1024 });
    const small = log.append(sampleLeaf(0));
    const big = log.append({ ...sampleLeaf(1), params: { memo: "Grüße ✓ ".repeat(40_000) } });
    const prefilled = { ...sampleLeaf(2), seq: log.size, prev: log.prev };
    const third = log.append(prefilled);
    log.close();
    expect(prefilled).toEqual({ ...sampleLeaf(2), seq: 2, prev: Buffer.from(big.hash).toString("hex") });
    const lines = linesOf(readLog(dir)[0]);
    expect([lines[0], lines[1], lines[2]]).toEqual([small.line, big.line, third.line]);
    expect(new Uint8Array(big.hash)).toEqual(leafHash(new TextEncoder().encode(big.line)));
    expect(verifyLog(readLog(dir), TEST_PUBLIC_KEY)).toMatchObject({ ok: true, leaves: 3, findings: [] });
  });

  it("rotates segments by size, and every closed segment ends with a checkpoint", () => {
    const dir = freshDir();
    const log = writeTestLog(dir, 60, { checkpointEvery: 1000, maxSegmentBytes: 8000 });
    const segments = readLog(dir);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    let leaves = 0;
    for (const segment of segments) {
      const lines = linesOf(segment);
      expect(lines.at(-1)).toBe("");
      expect(lines.at(-2)).toContain('"type":"checkpoint"');
      leaves += lines.filter((l) => l.includes('"type":"decision"')).length;
      expect(checkpointSizes(segment)).toEqual([leaves]);
      // The segment that crossed the limit did so with its last record (plus the checkpoint).
      expect(segment.bytes.length).toBeLessThan(8000 + 2 * 1000);
    }
    expect(verifyLog(segments, log.publicKey).ok).toBe(true);
  });

  it("checkpoints on the timer when leaves arrived, without waiting for N", async () => {
    const dir = freshDir();
    let resolveCheckpoint: (info: { size: number; note: string }) => void = () => {};
    const checkpointed = new Promise<{ size: number; note: string }>((resolve) => (resolveCheckpoint = resolve));
    const log = AuditLog.open({ dir, key: TEST_SEED, checkpointEvery: 1000, checkpointIntervalMs: 20, onCheckpoint: (info) => resolveCheckpoint(info) });
    for (let i = 0; i < 3; i++) log.append(sampleLeaf(i));
    const info = await checkpointed;
    expect(info.size).toBe(3);
    // On disk already (and fsynced), before close.
    const [segment] = readLog(dir);
    expect(checkpointSizes(segment)).toEqual([3]);
    expect(verifyLog([segment], log.publicKey).findings).toEqual([]);
    log.close();
  });

  it("reads the key as PEM, JWK or hex text, and uses the default or given origin", () => {
    const pair = generateKeyPair("jwk");
    const pem = generateKeyPair("pem");
    for (const [key, publicKey] of [[pair.privateText, pair.publicKey], [pem.privateText, pem.publicKey], [Buffer.from(pem.seed).toString("hex"), pem.publicKey]] as const) {
      const dir = freshDir();
      const log = AuditLog.open({ dir, key });
      log.append(sampleLeaf(0));
      log.close();
      expect(log.publicKey).toEqual(publicKey);
      expect(log.origin).toMatch(/^aegis\.local\/log\/[0-9a-f]{16}$/);
      expect(log.origin).toBe(defaultOrigin(publicKey));
      expect(verifyLog(readLog(dir), publicKey).ok).toBe(true);
    }
    const dir = freshDir();
    const log = AuditLog.open({ dir, key: TEST_SEED, origin: "audit.example.com/agents" });
    log.append(sampleLeaf(0));
    log.close();
    expect(verifyLog(readLog(dir), TEST_PUBLIC_KEY, { origin: "audit.example.com/agents" }).ok).toBe(true);
    expect(verifyLog(readLog(dir), TEST_PUBLIC_KEY, { origin: defaultOrigin(TEST_PUBLIC_KEY) }).ok).toBe(false);
  });

  it("refuses a leaf JSON cannot hold without failing the log, and appends nothing after close", () => {
    const dir = freshDir();
    const log = AuditLog.open({ dir, key: TEST_SEED });
    expect(() => log.append({ type: "decision", eval_ns: Number.NaN })).toThrow(CanonicalJsonError);
    expect(log.failed).toBeUndefined();
    expect(log.append(sampleLeaf(0)).seq).toBe(0);
    log.close();
    expect(() => log.append(sampleLeaf(1))).toThrow(expect.objectContaining({ code: "closed" }));
    expect(verifyLog(readLog(dir), TEST_PUBLIC_KEY).leaves).toBe(1);
  });

  it("writes the golden logs of telemetry/testdata byte for byte (the format is normative)", () => {
    const dir = freshDir();
    makeGolden(dir);
    for (const name of ["clean", "recovered"]) {
      const want = readLog(join(here, "testdata", name));
      const got = readLog(join(dir, name));
      expect(got.map((s) => s.name)).toEqual(want.map((s) => s.name));
      got.forEach((segment, i) => expect(Buffer.from(segment.bytes).toString(), `${name}/${segment.name}`).toBe(Buffer.from(want[i].bytes).toString()));
    }
    expect(verifyLog(readLog(join(here, "testdata", "clean")), TEST_PUBLIC_KEY)).toMatchObject({ ok: true, leaves: 10, findings: [] });
    const recovered = verifyLog(readLog(join(here, "testdata", "recovered")), TEST_PUBLIC_KEY);
    expect(recovered.ok).toBe(true);
    expect(recovered.findings.map((f) => `${f.file}:${f.line}:${f.kind}:${f.severity}`)).toEqual(["aegis-000001.jsonl:7:torn:warning"]);
  });
});

describe("reopening", () => {
  it("continues the chain and the tree in a new segment", () => {
    const dir = freshDir();
    writeTestLog(dir, 12);
    const log = AuditLog.open({ dir, key: TEST_SEED, checkpointEvery: 10 });
    expect(log.size).toBe(12);
    expect(log.append(sampleLeaf(12)).seq).toBe(12);
    log.close();
    const segments = readLog(dir);
    expect(segments.map((s) => s.name)).toEqual(["aegis-000001.jsonl", "aegis-000002.jsonl"]);
    expect(verifyLog(segments, TEST_PUBLIC_KEY)).toMatchObject({ ok: true, leaves: 13, findings: [] });
  });

  it("refuses a tampered log and writes nothing to it", () => {
    const dir = freshDir();
    writeTestLog(dir, 12);
    const [segment] = readLog(dir);
    const lines = linesOf(segment);
    lines[4] = lines[4].replace('"decision":"allow"', '"decision":"deny"');
    writeFileSync(join(dir, segment.name), segmentOf(segment.name, lines).bytes);
    const before = readdirSync(dir);
    expect(() => AuditLog.open({ dir, key: TEST_SEED })).toThrow(expect.objectContaining({
      name: "AuditError", code: "corrupt_log", message: expect.stringContaining("aegis-000001.jsonl:5: modified"),
    }));
    expect(readdirSync(dir)).toEqual(before);
    expect(readFileSync(join(dir, segment.name))).toEqual(Buffer.from(segmentOf(segment.name, lines).bytes));
  });

  it("refuses a log signed by another key", () => {
    const dir = freshDir();
    writeTestLog(dir, 3);
    expect(() => AuditLog.open({ dir, key: generateKeyPair("pem").seed })).toThrow(expect.objectContaining({ code: "corrupt_log", message: expect.stringContaining("bad_signature") }));
  });

  it("resumes after a SIGKILL: the crashed log verifies up to its last checkpoint, the recovery leaf admits the torn line", async () => {
    const dir = freshDir();
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "testing", "crash-writer.ts"), dir, "25"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const killed = new Promise<void>((resolve, reject) => {
      let seen = 0;
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString().split("checkpoint ").length - 1;
        if (seen >= 8 && child.exitCode === null) child.kill("SIGKILL");
      });
      child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited with ${code}: ${stderr}`))));
    });
    await killed;

    const segments = readLog(dir);
    expect(segments.map((s) => s.name)).toEqual(["aegis-000001.jsonl"]);
    // A kill rarely lands inside a write; when it did not, tear the last line as a crash would.
    const killTore = segments[0].bytes.at(-1) !== 0x0a;
    if (!killTore) {
      appendFileSync(join(dir, segments[0].name), '{"action":"create_payment","agent":{"id":"fin');
      segments[0] = readLog(dir)[0];
    }
    const tornLine = linesOf(segments[0]).length;
    const crashed = verifyLog(segments, TEST_PUBLIC_KEY);
    const errors = crashed.findings.filter((f) => f.severity === "error");
    expect(errors.map((f) => `${f.line}:${f.kind}`), JSON.stringify(crashed.findings)).toEqual([`${tornLine}:torn`]);
    expect(crashed.findings.filter((f) => f.severity === "warning").every((f) => f.kind === "unsigned_tail")).toBe(true);
    const checkpointed = checkpointSizes(segments[0]);
    expect(checkpointed.length).toBeGreaterThanOrEqual(8);
    expect(crashed.lastCheckpoint?.size).toBe(checkpointed.at(-1));

    const log = AuditLog.open({ dir, key: TEST_SEED });
    expect(log.size).toBe(crashed.leaves + 1); // the recovery leaf
    for (let i = 0; i < 10; i++) log.append(sampleLeaf(1000 + i));
    log.close();
    const resumed = readLog(dir);
    expect(resumed.map((s) => s.name)).toEqual(["aegis-000001.jsonl", "aegis-000002.jsonl"]);
    // The crashed segment is untouched.
    expect(resumed[0].bytes).toEqual(segments[0].bytes);
    const recovery = JSON.parse(linesOf(resumed[1])[0]) as { type: string; seq: number; torn: { segment: string; line: number; bytes: number } };
    expect(recovery).toMatchObject({ type: "recovery", seq: crashed.leaves, torn: { segment: "aegis-000001.jsonl", line: tornLine } });
    const result = verifyLog(resumed, TEST_PUBLIC_KEY);
    expect(result.ok).toBe(true);
    expect(result.leaves).toBe(crashed.leaves + 11);
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.kind}:${f.severity}`)).toEqual([`aegis-000001.jsonl:${tornLine}:torn:warning`]);
  }, 60_000);
});

describe("failures", () => {
  const hasDevFull = existsSync("/dev/full");

  it.runIf(hasDevFull)("disk full: the write fails, the alarm fires once, append throws under deny", () => {
    const dir = freshDir();
    const alarms: AuditError[] = [];
    const log = AuditLog.open({ dir, key: TEST_SEED, checkpointEvery: 5, maxSegmentBytes: 3000, onAlarm: (e) => alarms.push(e) });
    // The next segment is a device where every write fails with ENOSPC.
    symlinkSync("/dev/full", join(dir, "aegis-000002.jsonl"));
    let thrown: unknown;
    let appended = 0;
    for (let i = 0; i < 100 && thrown === undefined; i++) {
      try {
        log.append(sampleLeaf(i));
        appended++;
      } catch (e) {
        thrown = e;
      }
    }
    expect(thrown).toBeInstanceOf(AuditError);
    expect(thrown).toMatchObject({ code: "write_failed", message: expect.stringMatching(/^cannot write audit log segment `.*aegis-000002\.jsonl`: no space left on device \(ENOSPC\)$/) });
    expect(alarms).toEqual([thrown]);
    expect(log.failed).toBe(thrown);
    expect(() => log.append(sampleLeaf(0))).toThrow(thrown as Error);
    expect(log.checkpoint()).toBeUndefined();
    log.close();
    expect(alarms.length).toBe(1);
    // Everything before the failure is intact and signed.
    const segments = readLog(dir);
    expect(segments.map((s) => s.name)).toEqual(["aegis-000001.jsonl"]);
    expect(verifyLog(segments, TEST_PUBLIC_KEY)).toMatchObject({ ok: true, findings: [] });
    expect(appended).toBeGreaterThan(0);
    // Reopening never reads the device (it would never end): the log is refused instead.
    expect(() => AuditLog.open({ dir, key: TEST_SEED })).toThrow(expect.objectContaining({ code: "corrupt_log", message: expect.stringContaining("not a regular file") }));
  });

  it.runIf(hasDevFull)("disk full under onFailure allow: append keeps returning, the alarm fires once", () => {
    const dir = freshDir();
    const alarms: AuditError[] = [];
    const log = AuditLog.open({ dir, key: TEST_SEED, checkpointEvery: 5, maxSegmentBytes: 3000, onFailure: "allow", onAlarm: (e) => alarms.push(e) });
    symlinkSync("/dev/full", join(dir, "aegis-000002.jsonl"));
    const seqs = Array.from({ length: 40 }, (_, i) => log.append(sampleLeaf(i)).seq);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(log.failed?.code).toBe("write_failed");
    expect(alarms).toEqual([log.failed]);
    log.close();
  });

  it("unwritable directory: open throws under deny; under allow it returns a failed log and raises the alarm", () => {
    // A path below a regular file cannot be created, not even by root.
    const file = join(root, `plain-file-${++counter}`);
    writeFileSync(file, "x");
    const dir = join(file, "log");
    expect(() => AuditLog.open({ dir, key: TEST_SEED })).toThrow(expect.objectContaining({
      code: "unwritable", message: `cannot create the audit log directory \`${dir}\`: a path component is not a directory (ENOTDIR)`,
    }));
    const alarms: AuditError[] = [];
    const log = AuditLog.open({ dir, key: TEST_SEED, onFailure: "allow", onAlarm: (e) => alarms.push(e) });
    expect(log.failed?.code).toBe("unwritable");
    expect(alarms).toEqual([log.failed]);
    expect(log.append(sampleLeaf(0)).seq).toBe(0);
    log.close();
  });

  it("a directory that disappears fails the log at the next rotation", () => {
    const dir = freshDir();
    const alarms: AuditError[] = [];
    const log = AuditLog.open({ dir, key: TEST_SEED, maxSegmentBytes: 2000, onAlarm: (e) => alarms.push(e) });
    rmSync(dir, { recursive: true });
    expect(() => {
      for (let i = 0; i < 20; i++) log.append(sampleLeaf(i));
    }).toThrow(expect.objectContaining({ code: "unwritable", message: expect.stringContaining("cannot create audit log segment") }));
    expect(alarms.length).toBe(1);
    log.close();
  });

  it("refuses to append to a segment another writer created", () => {
    const dir = freshDir();
    const log = AuditLog.open({ dir, key: TEST_SEED, maxSegmentBytes: 2000 });
    writeFileSync(join(dir, "aegis-000002.jsonl"), "someone else's line\n");
    expect(() => {
      for (let i = 0; i < 20; i++) log.append(sampleLeaf(i));
    }).toThrow(expect.objectContaining({ code: "unwritable", message: expect.stringContaining("already exists (is another writer using") }));
    expect(readFileSync(join(dir, "aegis-000002.jsonl"), "utf8")).toBe("someone else's line\n");
    log.close();
  });

  it("rejects bad options", () => {
    const dir = freshDir();
    mkdirSync(dir);
    expect(() => AuditLog.open({ dir, key: new Uint8Array(31) })).toThrow(/32-byte/);
    expect(() => AuditLog.open({ dir, key: TEST_SEED, checkpointEvery: 0 })).toThrow(/checkpointEvery must be a positive number/);
    expect(() => AuditLog.open({ dir, key: TEST_SEED, name: "../x" })).toThrow(/invalid audit log name/);
  });
});

describe("shutdown", () => {
  it("signs a final checkpoint when the process exits without close()", async () => {
    const dir = freshDir();
    const script = join(root, `exit-${counter}.mts`);
    // A program that logs and simply ends: the exit hook must checkpoint what it appended.
    writeFileSync(script, [
      `import { AuditLog } from ${JSON.stringify(join(here, "log.ts"))};`,
      `import { sampleLeaf, TEST_SEED } from ${JSON.stringify(join(here, "testing/logs.ts"))};`,
      `const log = AuditLog.open({ dir: ${JSON.stringify(dir)}, key: TEST_SEED, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });`,
      `for (let i = 0; i < 5; i++) log.append(sampleLeaf(i));`,
    ].join("\n"));
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: repoRoot, stdio: "inherit" });
      child.on("exit", resolve);
    });
    expect(code).toBe(0);
    const result = verifyLog(readLog(dir), TEST_PUBLIC_KEY);
    expect(result.ok).toBe(true);
    expect(result.leaves).toBe(5);
    expect(result.lastCheckpoint?.size).toBe(5);
    expect(result.findings.filter((f) => f.kind === "unsigned_tail")).toEqual([]);
  });
});
