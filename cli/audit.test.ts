// Tests of `aegis audit` (cli/commands/audit.ts, docs/audit.md), run in-process through an
// in-memory CliIO: verify's exit codes 0/1/2 and its file:line output, prove -> verify-proof round
// trips and tampered proofs, and keygen's key files (read back by telemetry/keys.ts and by jose).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, importJWK, importPKCS8, importSPKI } from "jose";
import { auditCommand } from "./commands/audit.ts";
import { readPrivateKey, readPublicKey, toBase64Url } from "../telemetry/keys.ts";
import { linesOf, readLog, segmentOf, TEST_PUBLIC_KEY, writeTestLog } from "../telemetry/testing/logs.ts";

interface Run { code: number; stdout: string; stderr: string }

let dir: string;

async function audit(...args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await auditCommand.run(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => new Uint8Array(0),
    cwd: dir,
  });
  return { code, stdout, stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aegis-audit-cli-"));
  // log/: 30 records, checkpoints at 10, 20, 30 (record k on line k + 1 + floor(k / 10)).
  writeTestLog(join(dir, "log"), 30);
  writeFileSync(join(dir, "test.pub"), Buffer.from(TEST_PUBLIC_KEY).toString("hex") + "\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of log/ with `edit` applied to its (only) segment's lines. */
function tamperedCopy(name: string, edit: (lines: string[]) => void): string {
  const [segment] = readLog(join(dir, "log"));
  const lines = linesOf(segment);
  edit(lines);
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, segment.name), segmentOf(segment.name, lines).bytes);
  return name;
}

describe("aegis audit", () => {
  it("prints help, and exits 2 without or with an unknown subcommand", async () => {
    const help = await audit("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: aegis audit SUBCOMMAND");
    for (const sub of ["verify", "prove", "verify-proof", "keygen"]) {
      const run = await audit(sub, "--help");
      expect(run.code, sub).toBe(0);
      expect(run.stdout, sub).toContain(`usage: aegis audit ${sub}`);
    }
    expect((await audit()).code).toBe(2);
    const unknown = await audit("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("aegis audit: unknown subcommand `frobnicate` (run `aegis audit --help`)\n");
  });
});

describe("aegis audit verify", () => {
  it("exits 0 for an untampered log and prints a summary", async () => {
    const run = await audit("verify", "log", "--key", "test.pub");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok; 30 records, 3 checkpoints; last verified checkpoint: size 30, root [A-Za-z0-9+/]{43}=\n$/);
    // The key inline as hex, and segment files instead of the directory.
    const inline = await audit("verify", join("log", "aegis-000001.jsonl"), "--key", Buffer.from(TEST_PUBLIC_KEY).toString("hex"));
    expect(inline.code).toBe(0);
  });

  it("exits 1 for a tampered log and names file:line: kind", async () => {
    const name = tamperedCopy("modified", (lines) => {
      lines[5] = lines[5].replace('"tool":"payments"', '"tool":"shell"');
    });
    const run = await audit("verify", name, "--key", "test.pub");
    expect(run.code).toBe(1);
    const [finding, summary] = run.stdout.split("\n");
    expect(finding).toBe(`${join(name, "aegis-000001.jsonl")}:6: modified: record's hash is not the \`prev\` of the next record (${join(name, "aegis-000001.jsonl")}:7): it was altered`);
    // Record 5 is under every checkpoint: none of them matches the log any more.
    expect(summary).toBe("tampered: 1 error; 30 records, 3 checkpoints; no verified checkpoint");
  });

  it("prints JSON with --json", async () => {
    const name = tamperedCopy("json", (lines) => {
      [lines[2], lines[6]] = [lines[6], lines[2]];
    });
    const run = await audit("verify", name, "--key", "test.pub", "--json");
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { ok: boolean; leaves: number; lastCheckpoint: { size: number }; findings: { kind: string; line: number }[] };
    expect(result.ok).toBe(false);
    expect(result.leaves).toBe(30);
    expect(result.findings.map((f) => `${f.line}:${f.kind}`)).toEqual(["3:reordered", "7:reordered"]);
    const ok = JSON.parse((await audit("verify", "log", "--key", "test.pub", "--json")).stdout) as typeof result;
    expect(ok).toMatchObject({ ok: true, leaves: 30, findings: [], lastCheckpoint: { size: 30 } });
  });

  it("finds a cut tail against --checkpoint", async () => {
    const [segment] = readLog(join(dir, "log"));
    writeFileSync(join(dir, "latest.note"), (JSON.parse(linesOf(segment)[32]) as { note: string }).note);
    const name = tamperedCopy("cut", (lines) => lines.splice(26, Infinity, ""));
    expect((await audit("verify", name, "--key", "test.pub")).code).toBe(0);
    const run = await audit("verify", name, "--key", "test.pub", "--checkpoint", "latest.note");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${join(name, "aegis-000001.jsonl")}:26: truncated: the log ends after 24 leaves, but \`latest.note\` is signed for 30`);
  });

  it("exits 2 for a missing log, a missing or unreadable key, a directory without segments", async () => {
    const missing = await audit("verify", "nope", "--key", "test.pub");
    expect(missing).toMatchObject({ code: 2, stderr: "aegis audit verify: cannot read log `nope`: no such file or directory\n" });
    expect((await audit("verify", "log")).stderr).toBe("aegis audit verify: missing `--key PUB` (the log's public key)\n");
    writeFileSync(join(dir, "garbage.pub"), "not a key\n");
    const garbage = await audit("verify", "log", "--key", "garbage.pub");
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/^aegis audit verify: cannot read public key `garbage.pub`: unrecognized public key/);
    expect((await audit("verify", "log", "--key", "absent.pub")).stderr).toBe("aegis audit verify: cannot read public key `absent.pub`: no such file or directory\n");
    mkdirSync(join(dir, "empty"));
    expect((await audit("verify", "empty", "--key", "test.pub")).stderr).toBe("aegis audit verify: no `*.jsonl` segments in `empty`\n");
    expect((await audit("verify", "log", "--key", "test.pub", "--frob")).code).toBe(2);
  });
});

describe("aegis audit prove and verify-proof", () => {
  it("round-trips: a printed proof verifies offline with the key", async () => {
    const proved = await audit("prove", "log", "--record", "7");
    expect(proved.code).toBe(0);
    const proof = JSON.parse(proved.stdout) as { index: number; size: number; leaf: string; path: string[]; checkpoint: string; line: number };
    expect(proof).toMatchObject({ type: "aegis.inclusion_proof", v: 1, index: 7, size: 30, line: 8 });
    expect(proof.path.length).toBe(5);
    expect(JSON.parse(proof.leaf)).toMatchObject({ seq: 7 });
    writeFileSync(join(dir, "proof.json"), proved.stdout);
    const checked = await audit("verify-proof", "proof.json", "--key", "test.pub");
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^ok: record 7 is leaf 7 of the 30-leaf tree of `aegis.local\/log\/[0-9a-f]{16}`, signed by this key\n$/);

    const older = await audit("prove", "log", "--record", "0", "--size", "10");
    expect(older.code).toBe(0);
    writeFileSync(join(dir, "proof10.json"), older.stdout);
    expect((await audit("verify-proof", "proof10.json", "--key", "test.pub")).code).toBe(0);
  });

  it("exits 1 for a proof with an edited record, index, path or checkpoint, or another key", async () => {
    const proof = JSON.parse((await audit("prove", "log", "--record", "12")).stdout) as Record<string, unknown> & { leaf: string; path: string[]; checkpoint: string };
    const variants: [string, Record<string, unknown>, RegExp][] = [
      ["leaf", { ...proof, leaf: proof.leaf.replace('"decision":"allow"', '"decision":"deny"') }, /do not lead to the checkpoint's root/],
      ["index", { ...proof, index: 13, leaf: proof.leaf.replace('"seq":12', '"seq":13') }, /do not lead to the checkpoint's root/],
      ["seq", { ...proof, index: 13 }, /the record's `seq` is 12, not the proof's index 13/],
      ["path", { ...proof, path: [proof.path[1], proof.path[0], ...proof.path.slice(2)] }, /do not lead/],
      ["size", { ...proof, size: 31 }, /the proof is for a tree of 31 leaves, but its checkpoint is for 30/],
      ["checkpoint", { ...proof, checkpoint: proof.checkpoint.replace("\n30\n", "\n31\n") }, /signature does not verify/],
    ];
    for (const [what, edited, reason] of variants) {
      writeFileSync(join(dir, `bad-${what}.json`), JSON.stringify(edited));
      const run = await audit("verify-proof", `bad-${what}.json`, "--key", "test.pub");
      expect(run.code, what).toBe(1);
      expect(run.stdout, what).toMatch(reason);
    }
    writeFileSync(join(dir, "good.json"), JSON.stringify(proof));
    const { publicText } = await import("../telemetry/keys.ts").then((k) => k.generateKeyPair("pem"));
    writeFileSync(join(dir, "other.pub"), publicText);
    const otherKey = await audit("verify-proof", "good.json", "--key", "other.pub");
    expect(otherKey).toMatchObject({ code: 1, stdout: "proof does not verify: the checkpoint is not signed by this key\n" });
  });

  it("exits 2 for an unreadable proof and for records or sizes no checkpoint covers", async () => {
    writeFileSync(join(dir, "notjson.json"), "{");
    expect((await audit("verify-proof", "notjson.json", "--key", "test.pub")).stderr).toBe("aegis audit verify-proof: `notjson.json` is not a proof: not valid JSON\n");
    writeFileSync(join(dir, "shape.json"), JSON.stringify({ type: "aegis.inclusion_proof", v: 1, index: 0, size: 1, leaf: "x", path: ["zz"], checkpoint: "" }));
    const shape = await audit("verify-proof", "shape.json", "--key", "test.pub");
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain("`path` must be a list of 64-digit lower-case hex hashes");
    expect((await audit("verify-proof", "absent.json", "--key", "test.pub")).code).toBe(2);
    const uncovered = await audit("prove", "log", "--record", "30");
    expect(uncovered).toMatchObject({ code: 2, stderr: "aegis audit prove: record 30 is not covered by the checkpoint of size 30 (the last one)\n" });
    const noSize = await audit("prove", "log", "--record", "1", "--size", "15");
    expect(noSize.stderr).toBe("aegis audit prove: the log has no checkpoint of size 15 (checkpointed sizes: 10, 20, 30)\n");
    expect((await audit("prove", "log", "--record", "-1")).code).toBe(2);
    expect((await audit("prove", "log")).stderr).toBe("aegis audit prove: missing `--record N`\n");
  });
});

describe("aegis audit keygen", () => {
  it("writes PEM and JWK pairs that keys.ts and jose read, and that sign a log the CLI verifies", async () => {
    for (const format of ["pem", "jwk"] as const) {
      const run = await audit("keygen", "--out", `audit-${format}`, "--format", format);
      expect(run.code, format).toBe(0);
      expect(run.stdout).toBe(`wrote audit-${format}.key (private, keep it secret) and audit-${format}.pub (public)\n`);
      const privateText = readFileSync(join(dir, `audit-${format}.key`), "utf8");
      const publicText = readFileSync(join(dir, `audit-${format}.pub`), "utf8");
      expect(statSync(join(dir, `audit-${format}.key`)).mode & 0o777).toBe(0o600);
      const publicKey = readPublicKey(publicText);
      readPrivateKey(privateText);
      const joseKey = format === "pem"
        ? await importSPKI(publicText, "EdDSA", { extractable: true })
        : await importJWK(JSON.parse(publicText), "EdDSA");
      if (format === "pem") await importPKCS8(privateText, "EdDSA");
      else await importJWK(JSON.parse(privateText), "EdDSA");
      if (format === "pem") expect((await exportJWK(joseKey)).x).toBe(toBase64Url(publicKey));
      // The pair works end to end: the writer signs with NAME.key, the auditor checks with NAME.pub.
      writeTestLog(join(dir, `log-${format}`), 3, { key: privateText });
      expect((await audit("verify", `log-${format}`, "--key", `audit-${format}.pub`)).code).toBe(0);
      expect((await audit("verify", `log-${format}`, "--key", "test.pub")).code).toBe(1);
    }
  });

  it("refuses to overwrite without --force, and bad formats", async () => {
    expect((await audit("keygen", "--out", "twice")).code).toBe(0);
    const before = readFileSync(join(dir, "twice.key"), "utf8");
    const again = await audit("keygen", "--out", "twice");
    expect(again).toMatchObject({ code: 2, stderr: "aegis audit keygen: `twice.key` already exists (use --force to replace it)\n" });
    expect(readFileSync(join(dir, "twice.key"), "utf8")).toBe(before);
    expect((await audit("keygen", "--out", "twice", "--force")).code).toBe(0);
    expect(readFileSync(join(dir, "twice.key"), "utf8")).not.toBe(before);
    expect((await audit("keygen", "--out", "x", "--format", "der")).stderr).toBe("aegis audit keygen: unknown key format `der`: expected pem or jwk\n");
    expect((await audit("keygen")).stderr).toBe("aegis audit keygen: missing `--out NAME`\n");
    expect(readdirSync(dir).includes("x.key")).toBe(false);
  });
});
