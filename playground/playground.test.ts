// Clicks through the playground in headless Chromium (playwright-core, Debian's /usr/bin/chromium;
// never a downloaded browser): the sample compiles in the page to the same bundle Node's compiler
// writes, a misspelt field shows Node's formatted errors at the right line:col and a click moves the
// cursor there, user text stays text, and Evaluate shows exactly the decision bytes (or the
// structured request error) the Node binding gives for the same bundle and request.
// Skipped only when Chromium is missing outside CI.
import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { compile, formatPolicyError, readBundle, PolicyErrors, type Source } from "../compiler/index.ts";
import { lineColOf } from "../compiler/errors.ts";
import { Aegis, RequestError } from "../bindings/node/index.ts";
import { startPlayground, type StaticServer } from "./server.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const haveChromium = existsSync(CHROMIUM);
const procurementText = readFileSync(path.resolve(import.meta.dirname, "..", "policies", "procurement.yaml"), "utf8");

/** What Node's compiler and binding answer for `policy` and `request`: the reference for the page. */
async function nodeAnswer(policy: Source, request: string): Promise<{ bytes?: string; error?: { code: string; message: string; offset?: number } }> {
  const aegis = await Aegis.load(compile([policy]));
  try {
    return { bytes: new TextDecoder().decode(aegis.evaluateBytes(request)) };
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    return { error: { code: e.code, message: e.message, ...(e.offset === undefined ? {} : { offset: e.offset }) } };
  }
}

describe.skipIf(!haveChromium && !process.env.CI)("playground in Chromium", () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  const pageProblems: string[] = [];

  /** The sample policy as the page names and shows it. */
  async function editorSource(): Promise<Source> {
    return {
      path: (await page.locator("#policy-select option:checked").textContent()) ?? "",
      text: await page.inputValue("#policy-editor"),
    };
  }

  async function waitForCompile(tone: "ok" | "bad"): Promise<void> {
    await page.waitForFunction((t) => document.getElementById("status")?.dataset.tone === t, tone);
  }

  async function evaluateInPage(): Promise<void> {
    await page.evaluate(() => document.getElementById("decision")!.replaceChildren());
    await page.click("#evaluate");
    await page.waitForSelector("#decision-badge");
  }

  beforeAll(async () => {
    server = await startPlayground({ port: 0 });
    // playwright gives every launch a fresh temporary profile of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageProblems.push(`console error: ${m.text()}`);
    });
    await page.goto(server.url);
  });

  // Each test starts from the unedited procurement sample, whatever the previous one left behind.
  afterEach(async () => {
    await page.selectOption("#policy-select", { label: "procurement.yaml" });
    await page.fill("#policy-editor", procurementText);
    await page.click("#compile");
    await waitForCompile("ok");
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("compiles the sample in the page to the bundle Node's compiler writes, and disassembles it", async () => {
    await waitForCompile("ok");
    expect(await page.locator("#errors li").count()).toBe(0);
    expect(await page.isVisible("#errors-empty")).toBe(true);
    const source = await editorSource();
    expect(source.path).toBe("procurement.yaml");
    expect(source.text).toContain("policy: procurement");
    const info = readBundle(compile([source]));
    const listing = (await page.textContent("#disassembly")) ?? "";
    // Same digest: the browser's compiler (hashing, host normalisation of the egress list) wrote the same bytes.
    expect(listing).toContain(`digest    sha256:${info.digestHex}`);
    expect(info.rules.length).toBeGreaterThan(5);
    for (const rule of info.rules) expect(listing).toContain(`"${rule.id}"`);
    expect(listing).toMatch(/^rule 0 "/m);
  });

  it("normalises egress hosts in the page as Node does (IDNA, IPv4 and IPv6 forms, bad labels)", async () => {
    const original = await editorSource();
    const hosts = ["Bücher.Example", "Portal.Example.COM.", '"*.Internal.Example"', "0x7f.1", '"[0:0::1]"', "xn--bcher-kva.de"];
    const policy = [
      "aegis: 1", "policy: hosts", 'version: "1"', "default: deny",
      "rules:", "  - id: r", "    effect: allow", "    tool: t",
      "egress:", "  allow_domains:", ...hosts.map((h) => `    - ${h}`), "",
    ].join("\n");
    await page.fill("#policy-editor", policy);
    await page.click("#compile");
    await waitForCompile("ok");
    const info = readBundle(compile([{ path: original.path, text: policy }]));
    expect(info.egress?.entries.map((e) => (e.wildcard ? "*." : "") + e.host)).toEqual([
      "xn--bcher-kva.example", "portal.example.com", "*.internal.example", "127.0.0.1", "[::1]", "xn--bcher-kva.de",
    ]);
    expect(await page.textContent("#disassembly")).toContain(`digest    sha256:${info.digestHex}`);

    const invalid = policy + '    - xn--a.example\n    - "a b.example"\n';
    await page.fill("#policy-editor", invalid);
    await page.click("#compile");
    await waitForCompile("bad");
    const nodeErrors = (() => {
      try {
        compile([{ path: original.path, text: invalid }]);
        return [];
      } catch (e) {
        return (e as PolicyErrors).map((x) => formatPolicyError(x, [{ path: original.path, text: invalid }]));
      }
    })();
    expect(nodeErrors).toHaveLength(2);
    expect(await page.locator("#errors li").allTextContents()).toEqual(nodeErrors);
  });

  it("lists every error at file:line:col with the source line, and a click moves the cursor there", async () => {
    const original = await editorSource();
    const broken = original.text
      .replace("- isIBAN(params.payee_iban)", "- isIBAM(params.payee_iban)")
      .replace("    reason: payments over 250,000", "    reasn: payments over 250,000");
    expect(broken).not.toBe(original.text);
    await page.fill("#policy-editor", broken); // an input event: compiles after the debounce
    await waitForCompile("bad");

    let errors: PolicyErrors | undefined;
    try {
      compile([{ path: original.path, text: broken }]);
    } catch (e) {
      errors = e as PolicyErrors;
    }
    expect(errors).toBeInstanceOf(PolicyErrors);
    expect(errors!.length).toBe(2);
    const shown = await page.locator("#errors li").allTextContents();
    expect(shown).toEqual(errors!.map((e) => formatPolicyError(e, [{ path: original.path, text: broken }])));
    // Independently of Node: the lines and columns where the misspellings start.
    const lines = broken.split("\n");
    const functionLine = lines.findIndex((l) => l.includes("isIBAM(")) + 1;
    const keyLine = lines.findIndex((l) => l.includes("reasn:")) + 1;
    expect(shown[0]).toMatch(new RegExp(`^procurement\\.yaml:${functionLine}:${lines[functionLine - 1].indexOf("isIBAM") + 1}: unknown function \`isIBAM\``));
    expect(shown[0]).toContain(`\n | ${lines[functionLine - 1]}\n | ${".".repeat(lines[functionLine - 1].indexOf("isIBAM"))}^`);
    expect(shown[1]).toMatch(new RegExp(`^procurement\\.yaml:${keyLine}:5: unknown key \`reasn\``));
    expect(await page.locator("#policy-gutter .has-error").allTextContents()).toEqual(errors!.map((e) => String(e.line)));

    await page.locator("#errors li button").nth(1).click();
    const cursor = await page.evaluate(() => {
      const editor = document.getElementById("policy-editor") as HTMLTextAreaElement;
      return { focused: document.activeElement === editor, at: editor.selectionStart, to: editor.selectionEnd };
    });
    expect(cursor).toEqual({ focused: true, at: errors![1].offset, to: errors![1].offset });
    expect(lineColOf(broken, cursor.at)).toEqual({ line: errors![1].line, col: errors![1].col });

    // Fixed again (compiled on edit, no click): no errors, and the sample's bundle again.
    await page.fill("#policy-editor", original.text);
    await waitForCompile("ok");
    expect(await page.locator("#errors li").count()).toBe(0);
    expect(await page.locator("#policy-gutter .has-error").count()).toBe(0);
    expect(await page.textContent("#disassembly")).toContain(`digest    sha256:${readBundle(compile([original])).digestHex}`);
  });

  it("shows user text as text, never as markup", async () => {
    await page.fill("#policy-editor", procurementText.replace("mode: enforce\n", 'mode: enforce\n"<img src=x id=injected>": 1\n'));
    await page.click("#compile");
    await waitForCompile("bad");
    expect(await page.locator("#errors li").first().textContent()).toContain("`<img src=x id=injected>`");
    expect(await page.locator("#injected").count()).toBe(0);
  });

  it("evaluates a sample request to exactly the decision bytes the Node binding returns", async () => {
    await page.selectOption("#request-select", { label: "payment just over 5,000 needs approval → approval_needed" });
    const request = await page.inputValue("#request-editor");
    expect(request).toContain('"amount": 5000.01');
    await evaluateInPage();
    const want = await nodeAnswer(await editorSource(), request);
    expect(want.bytes).toContain('"decision":"approval_needed"');
    expect(await page.textContent("#decision-raw")).toBe(want.bytes);
    expect(JSON.parse((await page.textContent("#decision-json"))!)).toEqual(JSON.parse(want.bytes!));
    expect(await page.textContent("#decision-badge")).toBe("approval_needed");
    expect(await page.textContent("#decision-json mark")).toBe('"approval_needed"');
  });

  it("switches to the retail sample and shows its sanitize decision with the redacted params", async () => {
    await page.selectOption("#policy-select", { label: "retail.yaml" });
    await waitForCompile("ok");
    expect((await editorSource()).text).toContain("policy: retail");
    await page.selectOption("#request-select", { label: "card number in free text is redacted by DLP, turning an allow into sanitize → sanitize" });
    await evaluateInPage();
    const want = await nodeAnswer(await editorSource(), await page.inputValue("#request-editor"));
    expect(want.bytes).toContain('"redactions"');
    expect(await page.textContent("#decision-raw")).toBe(want.bytes);
    expect(await page.textContent("#decision-badge")).toBe("sanitize");
  });

  it("says so when the engine cannot be loaded, instead of failing silently", async () => {
    const broken = await browser.newPage();
    try {
      await broken.route("**/aegis.wasm", (route) => route.fulfill({ status: 404, body: "not found" }));
      await broken.goto(server.url);
      await broken.waitForFunction(() => document.getElementById("status")?.dataset.tone === "bad");
      expect(await broken.textContent("#status")).toMatch(/^the engine did not load: .*HTTP 404/);
      await broken.click("#evaluate");
      expect(await broken.textContent("#decision")).toContain("the engine is not loaded");
    } finally {
      await broken.close();
    }
  });

  it("shows the engine's structured error, with its offset, for bad JSON", async () => {
    const bad = '{\n  "agent": {"id": "reorder-agent"},\n  "tool": ,\n  "action": "get_stock"\n}';
    await page.fill("#request-editor", bad);
    await evaluateInPage();
    const want = await nodeAnswer(await editorSource(), bad);
    expect(want.error?.code).toBe("invalid_json");
    expect(want.error?.offset).toBe(bad.indexOf(" ,") + 1);
    expect(await page.textContent("#decision-badge")).toBe("error");
    expect(JSON.parse((await page.textContent("#decision-json"))!)).toEqual({ error: want.error });
    expect(await page.textContent(".caret")).toBe(' |   "tool": ,\n | ..........^');
    expect(pageProblems).toEqual([]);
  });
});
