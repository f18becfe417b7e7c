// Peer engines for the side-by-side benchmark: @marcbachmann/cel-js (every rule's CEL expression
// parsed once, all evaluated per call, precedence applied like Aegis) and @cedar-policy/cedar-wasm
// (policy set preparsed once, stateful isAuthorized per call).
import { parse } from "@marcbachmann/cel-js";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

type Req = { agent: { id: string }; tool: string; action: string; params: Record<string, unknown> };
const RANK: Record<string, number> = { allow: 0, sanitize: 1, approval_needed: 2, deny: 3 };

export function celEvaluator(rules: { id: string; effect: string; expr: string }[]): (r: Req) => string {
  const compiled = rules.map((r) => ({ ...r, fn: parse(r.expr) }));
  return (request) => {
    let best = -1;
    for (const r of compiled) {
      let hit: unknown;
      try { hit = r.fn(request as never); } catch { hit = "error"; }
      const rank = hit === true ? RANK[r.effect] : hit === "error" ? 3 : -1;
      if (rank > best) best = rank;
    }
    return best < 0 ? "deny" : Object.keys(RANK)[best];
  };
}

export function cedarEvaluator(policyText: string, id: string): (r: Req) => string {
  const parsed = cedar.preparsePolicySet(id, { staticPolicies: policyText });
  if (parsed.type !== "success") throw new Error(`cedar: ${JSON.stringify(parsed.errors)}`);
  return (request) => {
    const answer = cedar.statefulIsAuthorized({
      principal: { type: "Agent", id: request.agent.id },
      action: { type: "Action", id: request.action },
      resource: { type: "Tool", id: request.tool },
      context: request.params as never,
      preparsedPolicySetId: id,
      entities: [],
    });
    if (answer.type !== "success") throw new Error(`cedar: ${JSON.stringify(answer.errors)}`);
    return answer.response.decision === "allow" ? "allow" : "deny";
  };
}
