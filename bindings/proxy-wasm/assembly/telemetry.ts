// Filter: decision telemetry. Input: the engine's output for one request (decision JSON or request
// error JSON), the request bytes and the evaluation time. Output: one line per decision in the
// proxy log (info level) and, when a collector is configured, the same line POSTed to it with
// proxy_http_call (fire and forget: a slow collector never holds a request).
//
// The line is `aegis.decision <decision-or-error JSON>`: the exact bytes the engine returned.
// docs/telemetry.md's JCS decision record is the target format for this line; it is written by
// its own renderer, which this module will call in place of the raw decision once it exists.

import { LOG_INFO, httpCall, log } from "./abi";
import { ByteBuf, HeaderMap } from "./bytes";
import { Config } from "./config";

const line = new ByteBuf();
const headers = new HeaderMap();

/** Record one decision (or request error): `outPtr`/`outLen` are the engine's output bytes. */
export function emitDecision(config: Config, outPtr: usize, outLen: usize): void {
  if (!config.logRecords && config.collector === null) return;
  line.reset();
  line.ascii("aegis.decision ");
  line.bytes(outPtr, outLen);
  if (config.logRecords) log(LOG_INFO, line.ptr, line.len);
  const c = config.collector;
  if (c !== null) {
    headers.reset();
    headers.addAscii(":method", "POST");
    headers.add(":path", c.path.ptr, c.path.len);
    headers.add(":authority", c.authority.ptr, c.authority.len);
    headers.addAscii("content-type", "application/json");
    const h = headers.serialize();
    // The body is the record itself (without the log prefix), one JSON line.
    line.byte(0x0a);
    const prefix: usize = 15; // "aegis.decision "
    httpCall(c.cluster.ptr, c.cluster.len, h.ptr, h.len, line.ptr + prefix, line.len - prefix, c.timeoutMs);
  }
}
