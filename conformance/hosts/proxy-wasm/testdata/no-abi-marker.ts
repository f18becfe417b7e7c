// @ts-nocheck -- AssemblyScript, compiled by asc in host.test.ts; tsc cannot type it.
// A module that looks like a filter but does not export `proxy_abi_version_0_2_1`: the host must
// refuse it before calling anything. Input: none; output: a wasm module for host.test.ts.

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_request_headers(ctx: u32, count: i32, eos: i32): i32 {
  return 0;
}
