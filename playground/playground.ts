// Playground page (browser entry, bundled by playground/build.ts): policy YAML in the editor ->
// compile (the real compiler, running in the page) -> bundle -> the engine wasm through the
// binding -> the decision JSON for the request in the request editor; plus every compile error at
// file:line:col and the bundle's disassembly. No policy logic lives here: the page only shows what
// the compiler and the engine return. User text is only ever set as text, never as HTML.
import {
  compile, disassembleBundle, formatPolicyError, readBundle, PolicyErrors, type PolicyError, type Source,
} from "../compiler/index.ts";
// The binding's browser entry: it fetches the engine from `aegis.wasm` beside the bundled script.
import { Aegis, RequestError } from "../bindings/web/index.ts";
import type { PlaygroundSamples, SamplePolicy } from "./samples.ts";
import { caretAt, decisionValueRange, lineOfIndex, prettyJson, utf8OffsetToIndex } from "./view.ts";

// Replaced at build time by the sample policies and requests (playground/samples.ts).
declare const __PLAYGROUND_SAMPLES__: PlaygroundSamples;

/** How long typing must pause before the policy is compiled again. */
const COMPILE_DELAY_MS = 300;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no element \`${id}\``);
  return element as T;
}

/** `tag` with `className` and, when given, text content. */
function make<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== "") element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const samples = __PLAYGROUND_SAMPLES__;
const status = byId<HTMLParagraphElement>("status");
const policySelect = byId<HTMLSelectElement>("policy-select");
const policyEditor = byId<HTMLTextAreaElement>("policy-editor");
const gutter = byId<HTMLDivElement>("policy-gutter");
const compileButton = byId<HTMLButtonElement>("compile");
const errorList = byId<HTMLOListElement>("errors");
const errorsEmpty = byId<HTMLParagraphElement>("errors-empty");
const requestSelect = byId<HTMLSelectElement>("request-select");
const requestEditor = byId<HTMLTextAreaElement>("request-editor");
const evaluateButton = byId<HTMLButtonElement>("evaluate");
const decisionPanel = byId<HTMLDivElement>("decision");
const disassembly = byId<HTMLPreElement>("disassembly");

/** The page's state: which sample, the edited texts, the last good bundle and the engine. */
const state = {
  /** The sample in the editor; null until the first one is shown. */
  policy: null as SamplePolicy | null,
  /** Edited policy texts by sample path, so switching samples does not lose edits. */
  drafts: new Map<string, string>(),
  /** The bundle of the editor's current text; null while it has errors. */
  bundle: null as Uint8Array | null,
  /** The engine, created with the first bundle and reloaded with each later one. */
  engine: null as Promise<Aegis> | null,
  compileTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  /** Lines of the policy errors shown, kept marked while the next compile is pending. */
  errorLines: new Set<number>(),
  /** Gutter state last drawn, to redraw only when it changes. */
  gutterKey: "",
};

// --- policy editor ---------------------------------------------------------------------------------

function selectPolicy(policy: SamplePolicy): void {
  if (state.policy !== null) state.drafts.set(state.policy.path, policyEditor.value);
  state.policy = policy;
  policyEditor.value = state.drafts.get(policy.path) ?? policy.text;
  policyEditor.scrollTop = 0;
  requestSelect.replaceChildren(...policy.requests.map((r, i) => {
    const option = make("option", "", r.expected === "" ? r.name : `${r.name} → ${r.expected}`);
    option.value = String(i);
    return option;
  }));
  selectRequest(0);
  void compileNow();
}

function selectRequest(index: number): void {
  const request = state.policy?.requests[index];
  requestSelect.value = String(index);
  requestEditor.value = request?.text ?? "{}";
}

/** Line numbers beside the editor; lines with an error are marked. */
function drawGutter(): void {
  const errorLines = state.errorLines;
  let lines = 1;
  const text = policyEditor.value;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  const key = `${lines}:${[...errorLines].join(",")}`;
  if (key === state.gutterKey) return;
  state.gutterKey = key;
  const numbers: HTMLSpanElement[] = [];
  for (let line = 1; line <= lines; line++) numbers.push(make("span", errorLines.has(line) ? "has-error" : "", String(line)));
  gutter.replaceChildren(...numbers);
  gutter.scrollTop = policyEditor.scrollTop;
}

/** Put the cursor at string offset `offset` of the policy editor and scroll its line into view. */
function moveCursor(offset: number): void {
  policyEditor.focus();
  policyEditor.setSelectionRange(offset, offset);
  const lineHeight = parseFloat(getComputedStyle(policyEditor).lineHeight) || 18;
  const line = lineOfIndex(policyEditor.value, offset);
  policyEditor.scrollTop = Math.max(0, (line - 1) * lineHeight - policyEditor.clientHeight / 3);
  gutter.scrollTop = policyEditor.scrollTop;
}

function scheduleCompile(): void {
  clearTimeout(state.compileTimer);
  state.compileTimer = setTimeout(() => void compileNow(), COMPILE_DELAY_MS);
}

/** Compile the editor's text now; show its errors or its disassembly, and load it into the engine. */
async function compileNow(): Promise<void> {
  clearTimeout(state.compileTimer);
  state.compileTimer = undefined;
  if (state.policy === null) return;
  const path = state.policy.path;
  const source: Source = { path, text: policyEditor.value };
  let bundle: Uint8Array;
  try {
    bundle = compile([source]);
  } catch (e) {
    state.bundle = null;
    if (e instanceof PolicyErrors) {
      showErrors(e.errors, [source]);
      setStatus(`${path}: ${e.length === 1 ? "1 error" : `${e.length} errors`}`, "bad");
    } else {
      showErrors([], [source], `internal compiler error: ${(e as Error).message}`);
      setStatus("the compiler failed (a bug: please report it with this policy)", "bad");
    }
    disassembly.classList.add("stale");
    return;
  }
  state.bundle = bundle;
  showErrors([], [source]);
  const info = readBundle(bundle);
  disassembly.textContent = disassembleBundle(bundle);
  disassembly.classList.remove("stale");
  setStatus(`compiled ${path}: ${bundle.length} bytes, ${info.rules.length} rules, sha256:${info.digestHex.slice(0, 12)}…`, "ok");
  try {
    if (state.engine === null) {
      state.engine = Aegis.load(bundle);
      await state.engine;
    } else (await state.engine).reload(bundle);
  } catch (e) {
    // The next compile tries again (a failed engine download, say).
    state.engine = null;
    setStatus(`the engine did not load: ${(e as Error).message}`, "bad");
  }
}

function showErrors(errors: readonly PolicyError[], sources: Source[], internal?: string): void {
  const items = errors.map((error) => {
    const button = make("button", "error-item");
    button.type = "button";
    button.append(make("span", "error-text", formatPolicyError(error, sources)));
    button.title = `go to line ${error.line}, column ${error.col}`;
    button.dataset.line = String(error.line);
    button.dataset.col = String(error.col);
    button.addEventListener("click", () => moveCursor(error.offset));
    const item = make("li");
    item.append(button);
    return item;
  });
  if (internal !== undefined) items.push(make("li", "error-text", internal));
  errorList.replaceChildren(...items);
  errorsEmpty.hidden = items.length > 0;
  state.errorLines = new Set(errors.filter((e) => e.file === sources[0]?.path).map((e) => e.line));
  drawGutter();
}

function setStatus(text: string, tone: "ok" | "bad" | "busy"): void {
  status.textContent = text;
  status.dataset.tone = tone;
}

// --- evaluation ------------------------------------------------------------------------------------

const textDecoder = new TextDecoder();

async function evaluate(): Promise<void> {
  if (state.compileTimer !== undefined) await compileNow();
  if (state.bundle === null) {
    decisionPanel.replaceChildren(make("p", "muted", "the policy does not compile: fix its errors, then evaluate"));
    return;
  }
  if (state.engine === null) {
    decisionPanel.replaceChildren(make("p", "bad", "the engine is not loaded (see the status line); compile to try again"));
    return;
  }
  let aegis: Aegis;
  try {
    aegis = await state.engine;
  } catch (e) {
    decisionPanel.replaceChildren(make("p", "bad", `the engine did not load: ${(e as Error).message}`));
    return;
  }
  const request = requestEditor.value;
  try {
    showDecision(textDecoder.decode(aegis.evaluateBytes(request)));
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    showRequestError(e, request);
  }
}

/** The engine's decision JSON, pretty, with its decision marked; and the exact bytes. */
function showDecision(json: string): void {
  const pretty = prettyJson(json);
  const { decision, enforced, rule } = JSON.parse(json) as { decision: string; enforced: boolean; rule: string };
  const code = make("pre", "code json");
  code.id = "decision-json";
  const range = decisionValueRange(pretty);
  if (range === null) code.textContent = pretty;
  else {
    code.append(pretty.slice(0, range.start), make("mark", `effect effect-${decision}`, pretty.slice(range.start, range.end)), pretty.slice(range.end));
  }
  const badge = make("span", `badge effect-${decision}`, decision);
  badge.id = "decision-badge";
  const raw = make("pre", "code raw", json);
  raw.id = "decision-raw";
  const details = make("details");
  details.append(make("summary", "", `exact bytes from the engine (${new TextEncoder().encode(json).length})`), raw);
  const verdict = make("p", "verdict");
  verdict.append(badge, ` ${enforced ? "enforced" : "not enforced (shadow mode)"}, by rule `, make("code", "", rule));
  decisionPanel.replaceChildren(verdict, code, details);
}

/** A request the engine rejected: its structured error, and where in the request it points. */
function showRequestError(error: RequestError, request: string): void {
  const body: { code: string; message: string; offset?: number } = { code: error.code, message: error.message };
  if (error.offset !== undefined) body.offset = error.offset;
  const badge = make("span", "badge effect-error", "error");
  badge.id = "decision-badge";
  const verdict = make("p", "verdict");
  verdict.append(badge, ` ${error.code}`);
  const code = make("pre", "code json", JSON.stringify({ error: body }, null, 2));
  code.id = "decision-json";
  const parts: HTMLElement[] = [verdict, code];
  if (error.offset !== undefined) {
    const index = utf8OffsetToIndex(request, error.offset);
    parts.push(
      make("p", "muted", `at byte ${error.offset} of the request (line ${lineOfIndex(request, index)}):`),
      make("pre", "code caret", caretAt(request, index)),
    );
  }
  decisionPanel.replaceChildren(...parts);
}

// --- wiring ----------------------------------------------------------------------------------------

policySelect.replaceChildren(...samples.policies.map((p, i) => {
  const option = make("option", "", p.path);
  option.value = String(i);
  return option;
}));
policySelect.addEventListener("change", () => selectPolicy(samples.policies[Number(policySelect.value)]));
requestSelect.addEventListener("change", () => selectRequest(Number(requestSelect.value)));
compileButton.addEventListener("click", () => void compileNow());
evaluateButton.addEventListener("click", () => void evaluate());
policyEditor.addEventListener("input", () => {
  drawGutter();
  scheduleCompile();
});
policyEditor.addEventListener("scroll", () => {
  gutter.scrollTop = policyEditor.scrollTop;
});
requestEditor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    void evaluate();
  }
});

selectPolicy(samples.policies[0]);
