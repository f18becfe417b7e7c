// The playground's static server (server.ts): files come with the MIME types browsers insist on
// (application/wasm), nothing outside the served folder is reachable however `..` is spelled or
// linked, and the command line accepts only --port and --host.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { request } from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseServerArgs, serveStatic, DEFAULT_PORT, type StaticServer } from "./server.ts";

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** Send `rawPath` exactly as given (no client-side normalisation of `..` or escapes). */
function get(server: StaticServer, rawPath: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

let dir: string;
let server: StaticServer;

beforeAll(async () => {
  // <dir>/secret.txt sits beside the served folder <dir>/site.
  dir = mkdtempSync(path.join(tmpdir(), "aegis-playground-"));
  const site = path.join(dir, "site");
  mkdirSync(path.join(site, "sub"), { recursive: true });
  writeFileSync(path.join(dir, "secret.txt"), "secret");
  writeFileSync(path.join(site, "index.html"), "<!doctype html><title>t</title>");
  writeFileSync(path.join(site, "app.js"), "export {};");
  writeFileSync(path.join(site, "engine.wasm"), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  writeFileSync(path.join(site, "sub", "index.html"), "sub");
  writeFileSync(path.join(site, "data.bin"), "bytes");
  symlinkSync(path.join(dir, "secret.txt"), path.join(site, "link.txt"));
  symlinkSync(dir, path.join(site, "up"));
  server = await serveStatic({ root: site, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("playground static server", () => {
  it("listens on 127.0.0.1 on the port it was given (0: a free one) and says where", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it("serves files with their MIME types and the page's security headers", async () => {
    const cases: [string, string, string][] = [
      ["/", "text/html; charset=utf-8", "<!doctype html><title>t</title>"],
      ["/index.html?x=1#y", "text/html; charset=utf-8", "<!doctype html><title>t</title>"],
      ["/app.js", "text/javascript; charset=utf-8", "export {};"],
      ["/sub/", "text/html; charset=utf-8", "sub"],
      ["/sub", "text/html; charset=utf-8", "sub"],
      ["/data.bin", "application/octet-stream", "bytes"],
    ];
    for (const [p, type, body] of cases) {
      const reply = await get(server, p);
      expect({ p, status: reply.status, type: reply.headers["content-type"], body: reply.body.toString() }).toEqual({ p, status: 200, type, body });
    }
    const wasm = await get(server, "/engine.wasm");
    expect(wasm.headers["content-type"]).toBe("application/wasm");
    expect(WebAssembly.validate(new Uint8Array(wasm.body))).toBe(true);
    expect(wasm.headers["content-security-policy"]).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(wasm.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("answers HEAD without a body and refuses other methods", async () => {
    const head = await get(server, "/app.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("10");
    expect(head.body.length).toBe(0);
    const post = await get(server, "/app.js", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("never serves a file outside its folder, however the path is spelled", async () => {
    const attempts = [
      "/../secret.txt", "/../../secret.txt", "/sub/../../secret.txt",
      "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/..%5csecret.txt", "/..\\secret.txt", "/%2e%2e%5c%2e%2e%5csecret.txt",
      "/link.txt", "/up/secret.txt", "/up/site/index.html/../../secret.txt",
      "/secret.txt%00.html", "/%zz", "//secret.txt", "/missing.html",
    ];
    for (const attempt of attempts) {
      const reply = await get(server, attempt);
      expect({ attempt, status: reply.status, leaked: reply.body.toString().includes("secret") }).toEqual({ attempt, status: 404, leaked: false });
    }
    const absolute = await get(server, "http://127.0.0.1/../secret.txt");
    expect(absolute.status).toBe(400);
  });
});

describe("parseServerArgs", () => {
  it("defaults to 127.0.0.1:8787 and reads --port and --host", () => {
    expect(parseServerArgs([])).toEqual({ host: "127.0.0.1", port: DEFAULT_PORT });
    expect(DEFAULT_PORT).toBe(8787);
    expect(parseServerArgs(["--port", "0"])).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseServerArgs(["--port=9000", "--host", "localhost"])).toEqual({ host: "localhost", port: 9000 });
  });

  it("rejects bad ports and unknown options with a usage message", () => {
    expect(() => parseServerArgs(["--port", "65536"])).toThrow("`--port` needs a port number from 0 to 65535, not `65536`");
    expect(() => parseServerArgs(["--port"])).toThrow("`--port` needs a port number");
    expect(() => parseServerArgs(["--port", "-1"])).toThrow("not `-1`");
    expect(() => parseServerArgs(["--verbose"])).toThrow("unknown option `--verbose`\nusage: npm run playground");
  });
});
