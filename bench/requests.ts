// Representative requests against the sample policies (policies/*.yaml) for the latency benchmark:
// the common allow, the approval and deny paths, egress, and a sanitize with DLP redaction.

export interface NamedRequest { name: string; request: Record<string, unknown> }

export function samplePolicyRequests(): NamedRequest[] {
  return [
    { name: "payment 1,200 USD", request: { agent: { id: "finance-agent", tenant: "acme", scopes: ["payments:write"] }, tool: "payments", action: "create_payment", params: { amount: 1200, currency: "USD", payee_iban: "DE89370400440532013000", payee_name: "Globex GmbH" }, context: { call_chain: ["orchestrator"], cost_usd: 0.02 } } },
    { name: "payment 7,200 USD", request: { agent: { id: "finance-agent", tenant: "acme" }, tool: "payments", action: "create_payment", params: { amount: 7200, currency: "USD", payee_iban: "DE89370400440532013000", payee_name: "Globex GmbH" } } },
    { name: "reorder within limits", request: { agent: { id: "reorder-agent" }, tool: "inventory-api", action: "create_order", params: { order_amount: 4200, supplier_id: "SUPP-0042", quantity: 120, baseline_quantity: 100, sku: "SKU-100200" } } },
    { name: "reorder 5x baseline", request: { agent: { id: "reorder-agent" }, tool: "inventory-api", action: "create_order", params: { order_amount: 9000, supplier_id: "SUPP-0042", quantity: 500, baseline_quantity: 100 } } },
    { name: "planner-induced payment", request: { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 900, currency: "EUR", payee_iban: "DE89370400440532013000", payee_name: "Initech" }, context: { call_chain: ["planner-agent"] } } },
    { name: "egress to unknown portal", request: { agent: { id: "sourcing-agent" }, tool: "supplier-portal", action: "fetch_quote", params: { supplier_id: "SUPP-1234" }, context: { egress: ["https://portal.evil-supplier.io/quote"] } } },
    { name: "unknown agent", request: { agent: { id: "intern-bot" }, tool: "payments", action: "create_payment", params: { amount: 5 } } },
  ];
}
