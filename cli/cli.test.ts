// End-to-end tests of the `aegis` command line: every command is run as a user runs it
// (`node bin/aegis.mjs ...` in a child process) on the sample policies and on broken ones, and its
// exit code, stdout and stderr are checked against CONTRACT §4 and docs/cli.md.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(repoRoot, "bin", "aegis.mjs");
const procurement = join(repoRoot, "policies", "procurement.yaml");
const retail = join(repoRoot, "policies", "retail.yaml");

interface Run { code: number | null; stdout: string; stderr: string }

function aegis(args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** The same CLI in this process (faster): for the checks that need no real process boundary. */
async function aegisInProcess(args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  const { main } = await import("./main.ts");
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => new TextEncoder().encode(options.input ?? ""),
    cwd: options.cwd ?? repoRoot,
  });
  return { code, stdout, stderr };
}

const payment = (amount: number, extra: object = {}) => JSON.stringify({
  agent: { id: "finance-agent" }, tool: "payments", action: "create_payment",
  params: { amount, currency: "USD", payee_iban: "DE89370400440532013000" }, ...extra,
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aegis-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("help and usage", () => {
  it("prints the command list for --help and exits 0", async () => {
    const run = await aegis(["--help"]);
    expect(run.code).toBe(0);
    for (const name of ["compile", "check", "eval", "test", "inspect", "keygen"]) expect(run.stdout).toContain(`  ${name} `);
  });

  it("prints each command's help", async () => {
    for (const name of ["compile", "check", "eval", "test", "inspect", "keygen"]) {
      const run = await aegisInProcess([name, "--help"]);
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toContain(`usage: aegis ${name}`);
    }
  });

  it("exits 2 on an unknown command or option", async () => {
    expect((await aegisInProcess(["frobnicate"])).code).toBe(2);
    const run = await aegisInProcess(["check", "--frob", procurement]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/aegis check: unknown option '--frob'/);
    expect((await aegisInProcess([])).code).toBe(2);
  });
});

describe("check", () => {
  it("accepts the sample policies", async () => {
    const run = await aegis(["check", "policies/procurement.yaml", "policies/retail.yaml"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok: \d+ rules in 2 policies\n$/);
  });

  it("reports a missing file clearly with exit 2", async () => {
    const run = await aegisInProcess(["check", "policies/nope.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot read policy file `policies/nope.yaml`: no such file or directory");
  });

  it("reports every error as file:line:col with exit 1", async () => {
    writeFileSync(join(dir, "broken.yaml"), [
      "aegis: 1",
      "polcy: broken",
      "policy: broken",
      'version: "1"',
      "rules:",
      "  - id: r1",
      "    effect: deny",
      "    when: isIBANN(params.iban)",
      "  - id: r2",
      "    effect: deny",
      '    when: params.note.matches("([a-z")',
      "",
    ].join("\n"));
    const run = await aegis(["check", "broken.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^broken\.yaml:2:1: .*`polcy`/m);
    expect(run.stderr).toMatch(/^broken\.yaml:8:11: .*`isIBANN`/m);
    expect(run.stderr).toMatch(/^broken\.yaml:11:\d+: /m);
    expect(run.stderr).toMatch(/^ \| {5}when: isIBANN\(params\.iban\)$/m);
    expect(run.stderr).toMatch(/^3 errors$/m);
  });

  it("reports a rule id used in two files", async () => {
    const policy = (name: string) => [`aegis: 1`, `policy: ${name}`, `version: "1"`, `rules:`, `  - id: shared-id`, `    effect: deny`, ""].join("\n");
    writeFileSync(join(dir, "one.yaml"), policy("one"));
    writeFileSync(join(dir, "two.yaml"), policy("two"));
    const run = await aegisInProcess(["check", "one.yaml", "two.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^two\.yaml:5:\d+: .*`shared-id`/m);
    expect(run.stderr).toMatch(/^1 error$/m);
  });
});

describe("keygen, compile, eval with signatures, inspect", () => {
  let bundlePath: string;

  beforeAll(async () => {
    const keygen = await aegis(["keygen", "--out", "signing"], { cwd: dir });
    expect(keygen.code).toBe(0);
    expect((await aegis(["keygen", "--out", "other"], { cwd: dir })).code).toBe(0);
    bundlePath = join(dir, "acme.aegis");
    const run = await aegis(["compile", procurement, retail, "-o", bundlePath, "--key", "signing.key"], { cwd: dir });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("keygen writes PEM files, the private one readable only by its owner, and never overwrites", async () => {
    expect(readFileSync(join(dir, "signing.key"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(dir, "signing.pub"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(statSync(join(dir, "signing.key")).mode & 0o077).toBe(0);
    const before = readFileSync(join(dir, "signing.key"), "utf8");
    const again = await aegis(["keygen", "--out", "signing"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(readFileSync(join(dir, "signing.key"), "utf8")).toBe(before);
  });

  it("compile writes a bundle that evaluates exactly as the Node binding does", async () => {
    const run = await aegis(["eval", "--bundle", bundlePath, "--public-key", join(dir, "signing.pub")], { input: payment(7200) });
    expect(run.code).toBe(0);
    const { Aegis } = await import("../bindings/node/index.ts");
    const direct = await Aegis.load(new Uint8Array(readFileSync(bundlePath)));
    expect(run.stdout).toBe(`${new TextDecoder().decode(direct.evaluateBytes(payment(7200)))}\n`);
    expect(JSON.parse(run.stdout)).toMatchObject({ decision: "approval_needed", rule: "pay-over-5k" });
  });

  it("eval accepts the public key as JWK or hex too", async () => {
    const { createPublicKey } = await import("node:crypto");
    const jwk = createPublicKey(readFileSync(join(dir, "signing.pub"), "utf8")).export({ format: "jwk" }) as { x: string };
    writeFileSync(join(dir, "signing.jwk"), JSON.stringify(jwk));
    const hex = Buffer.from(jwk.x, "base64url").toString("hex");
    for (const key of [join(dir, "signing.jwk"), hex]) {
      const run = await aegisInProcess(["eval", "--bundle", bundlePath, "--public-key", key], { input: payment(100) });
      expect(run.code, key).toBe(0);
      expect(JSON.parse(run.stdout).decision).toBe("allow");
    }
  });

  it("eval refuses the bundle under the wrong public key with a JSON error and exit 2", async () => {
    const run = await aegis(["eval", "--bundle", bundlePath, "--public-key", join(dir, "other.pub")], { input: payment(100) });
    expect(run.code).toBe(2);
    const error = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("bad_signature");
    expect(run.stderr).toContain("cannot load bundle");
  });

  it("eval refuses an unsigned bundle when a public key is given", async () => {
    const unsigned = join(dir, "unsigned.aegis");
    expect((await aegisInProcess(["compile", procurement, "-o", unsigned])).code).toBe(0);
    const run = await aegisInProcess(["eval", "--bundle", unsigned, "--public-key", join(dir, "signing.pub")], { input: payment(100) });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe("bad_signature");
  });

  it("eval without a public key warns that the signature was not checked", async () => {
    const run = await aegisInProcess(["eval", "--bundle", bundlePath], { input: payment(100) });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("signature not checked");
  });

  it("eval reports a corrupted bundle with its error code and exit 2", async () => {
    const bytes = new Uint8Array(readFileSync(bundlePath));
    bytes[bytes.length - 200] ^= 0xff;
    writeFileSync(join(dir, "corrupt.aegis"), bytes);
    const run = await aegisInProcess(["eval", "--bundle", join(dir, "corrupt.aegis")], { input: payment(100) });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout.trim().split("\n")[0]).error.code).toMatch(/^[a-z_]+$/);
  });

  it("compile refuses a key that is not an Ed25519 private key", async () => {
    writeFileSync(join(dir, "bad.key"), "not a key\n");
    const run = await aegisInProcess(["compile", procurement, "-o", join(dir, "x.aegis"), "--key", "bad.key"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot read private key `bad.key`");
    expect(existsSync(join(dir, "x.aegis"))).toBe(false);
  });

  it("compile exits 1 on policy errors and writes nothing", async () => {
    writeFileSync(join(dir, "bad-policy.yaml"), "aegis: 1\npolicy: p\nversion: \"1\"\nrules:\n  - id: r\n    effect: maybe\n");
    const run = await aegisInProcess(["compile", "bad-policy.yaml", "-o", "never.aegis"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bad-policy\.yaml:6:\d+: /m);
    expect(existsSync(join(dir, "never.aegis"))).toBe(false);
  });

  it("compile without -o is a usage error", async () => {
    const run = await aegisInProcess(["compile", procurement]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing `-o OUT.aegis`");
  });

  it("inspect shows the rules of a bundle", async () => {
    const run = await aegis(["inspect", bundlePath]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("pay-over-5k");
    expect(run.stdout).toContain("no-raw-card-numbers");
  });

  it("inspect exits 2 on a file that is not a bundle", async () => {
    writeFileSync(join(dir, "garbage.aegis"), "hello, world");
    const run = await aegisInProcess(["inspect", join(dir, "garbage.aegis")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("invalid bundle");
  });
});

describe("eval input", () => {
  it("evaluates JSON Lines, printing an error JSON for a bad line and exiting 2 at the end", async () => {
    const lines = [
      payment(100),
      '{"agent":{"id":"finance-agent"},"tool":"payments","action":"create_payment","params":{"amount":1,"amount":2}}',
      "",
      payment(100, { context: { call_chain: ["planner-agent"] } }),
      "{oops",
    ].join("\n");
    writeFileSync(join(dir, "requests.jsonl"), lines);
    const run = await aegis(["eval", "--policy", procurement, "--input", join(dir, "requests.jsonl")]);
    expect(run.code).toBe(2);
    const out = run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(out).toHaveLength(4);
    expect(out[0].decision).toBe("allow");
    expect(out[1].error.code).toBe("duplicate_key");
    expect(typeof out[1].error.offset).toBe("number");
    expect(out[2]).toMatchObject({ decision: "deny", rule: "no-planner-induced-payments" });
    expect(out[3].error.code).toBe("invalid_json");
    expect(run.stderr).toMatch(/request on line 2: .*\(duplicate_key at byte \d+\)/);
    expect(run.stderr).toMatch(/request on line 5: /);
  });

  it("reads one pretty-printed request from stdin, with several policy files", async () => {
    const request = JSON.stringify(JSON.parse(payment(100)), null, 2);
    const run = await aegisInProcess(["eval", "--policy", procurement, retail], { input: request });
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toHaveLength(2);
    expect(JSON.parse(run.stdout).decision).toBe("allow");
  });

  it("exits 0 for a deny: a decision is a result, not an error", async () => {
    const run = await aegisInProcess(["eval", "--policy", procurement], { input: payment(100, { agent: { id: "stranger" } }) });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ decision: "deny", rule: "default" });
  });

  it("rejects --bundle together with --policy, and empty input", async () => {
    expect((await aegisInProcess(["eval", "--policy", procurement, "--bundle", "x.aegis"])).code).toBe(2);
    const empty = await aegisInProcess(["eval", "--policy", procurement], { input: "\n\n" });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no request in standard input");
  });
});

describe("test", () => {
  it("fails with a field diff when a case does not hold", async () => {
    writeFileSync(join(dir, "policy.yaml"), readFileSync(procurement));
    writeFileSync(join(dir, "wrong.test.yaml"), [
      "policies: [policy.yaml]",
      "cases:",
      "  - name: big payment",
      "    request_json: '" + payment(7200) + "'",
      "    want: { decision: allow, rule: pay-over-5k }",
      "  - name: small payment",
      "    request_json: '" + payment(100) + "'",
      "    want: { decision: allow }",
      "  - name: expects an error that does not come",
      "    request_json: '" + payment(100) + "'",
      "    want_error: duplicate_key",
      "",
    ].join("\n"));
    const run = await aegis(["test", "wrong.test.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}wrong\.test\.yaml:3: big payment$/m);
    expect(run.stdout).toMatch(/^ {8}decision: want "allow", got "approval_needed"$/m);
    expect(run.stdout).not.toMatch(/rule: want/);
    expect(run.stdout).toMatch(/^ok {4}wrong\.test\.yaml:6: small payment$/m);
    expect(run.stdout).toMatch(/^FAIL {2}.*expects an error.*\n {8}want error `duplicate_key`, got decision "allow"/m);
    expect(run.stdout).toMatch(/^FAIL: 1 passed, 2 failed \(1 file\)$/m);
  });

  it("exits 1 when a test file is malformed, naming its position", async () => {
    writeFileSync(join(dir, "malformed.test.yaml"), "policies: [policy.yaml]\ncases:\n  - name: x\n    request: {}\n    wnat: { decision: allow }\n");
    const run = await aegisInProcess(["test", "malformed.test.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("malformed.test.yaml:5:5: unknown case key `wnat`");
  });

  it("exits 2 when a test file is missing", async () => {
    const run = await aegisInProcess(["test", "missing.test.yaml"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot read test file `missing.test.yaml`");
  });
});
