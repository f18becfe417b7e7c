// Playground server (`npm run playground`): builds the page (playground/build.ts) and serves
// build/playground/ over HTTP on 127.0.0.1. Input: GET/HEAD requests for files; command-line
// options `--port N` (default 8787; 0 picks a free port) and `--host H`. Output: the files with
// their MIME types (`application/wasm` for the engine, so browsers can compile it while it
// streams); 404 for anything outside the folder, whatever the encoding of `..` in the path.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildPlayground, playgroundDir } from "./build.ts";

/** The port `npm run playground` listens on unless told otherwise. */
export const DEFAULT_PORT = 8787;

/** Content types by file extension; anything else is served as opaque bytes. */
export const MIME_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Sent with every response. The page runs only its own script (no inline code, no other origin);
 * `wasm-unsafe-eval` is what lets it compile the engine.
 */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** A running static server. */
export interface StaticServer {
  /** `http://host:port/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The folder to serve. */
  root: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_PORT; 0 picks a free one. */
  port?: number;
}

/**
 * The file under `root` that the URL path `pathname` names, or null when it names nothing inside
 * `root`: the path is percent-decoded before it is joined, so `..%2f` and the like are caught, and
 * symbolic links are resolved before the containment check.
 */
export async function resolveStaticPath(root: string, pathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null; // malformed percent-encoding
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const realRoot = await realpath(root);
  let file = path.resolve(realRoot, "." + path.posix.normalize("/" + decoded));
  if (decoded.endsWith("/")) file = path.join(file, "index.html");
  let real: string;
  try {
    real = await realpath(file);
    if ((await stat(real)).isDirectory()) real = await realpath(path.join(real, "index.html"));
  } catch {
    return null;
  }
  const inside = real === realRoot || real.startsWith(realRoot + path.sep);
  return inside && (await stat(real)).isFile() ? real : null;
}

function send(res: ServerResponse, status: number, text: string, headOnly: boolean): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(headOnly ? undefined : text);
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headOnly = req.method === "HEAD";
  if (req.method !== "GET" && !headOnly) {
    res.setHeader("Allow", "GET, HEAD");
    send(res, 405, "method not allowed\n", false);
    return;
  }
  // Only the path matters; a relative base keeps a request target like `//evil` a path.
  const rawPath = (req.url ?? "/").split(/[?#]/, 1)[0];
  if (!rawPath.startsWith("/")) {
    send(res, 400, "bad request\n", headOnly);
    return;
  }
  const file = await resolveStaticPath(root, rawPath);
  if (file === null) {
    send(res, 404, "not found\n", headOnly);
    return;
  }
  const size = (await stat(file)).size;
  const type = MIME_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
  res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": size });
  if (headOnly) {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

/** Serve `root` until close() is called. Rejects when the port cannot be bound. */
export function serveStatic(options: ServeOptions): Promise<StaticServer> {
  const host = options.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    handle(options.root, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, "internal error\n", false);
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${port}/`,
        port,
        close: () => new Promise<void>((done, fail) => {
          server.close((e) => (e ? fail(e) : done()));
          server.closeAllConnections();
        }),
      });
    });
  });
}

/** Build the page, then serve it: what `npm run playground` runs. */
export async function startPlayground(options: { host?: string; port?: number } = {}): Promise<StaticServer> {
  await buildPlayground();
  return serveStatic({ root: playgroundDir, ...options });
}

const USAGE = "usage: npm run playground -- [--port N] [--host H]";

/** Parse `--port N` / `--host H` (also `--port=N`); throws with a usage message on anything else. */
export function parseServerArgs(argv: string[]): { host: string; port: number } {
  const options = { host: "127.0.0.1", port: DEFAULT_PORT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag !== "--port" && flag !== "--host") throw new Error(`unknown option \`${arg}\`\n${USAGE}`);
    const value = flag !== arg ? arg.slice(eq + 1) : argv[++i];
    if (flag === "--port") {
      if (value === undefined || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
        throw new Error(`\`--port\` needs a port number from 0 to 65535, not \`${value ?? ""}\`\n${USAGE}`);
      }
      options.port = Number(value);
    } else {
      if (value === undefined || value === "") throw new Error(`\`--host\` needs a host name or address\n${USAGE}`);
      options.host = value;
    }
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options: { host: string; port: number };
  try {
    options = parseServerArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`playground: ${(e as Error).message}`);
    process.exit(2);
  }
  startPlayground(options).then(
    (server) => {
      console.log(`playground: ${server.url}`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (e: NodeJS.ErrnoException) => {
      const reason = e.code === "EADDRINUSE" ? `port ${options.port} is in use (pick another with \`--port\`)` : e.message;
      console.error(`playground: ${reason}`);
      process.exit(1);
    },
  );
}
