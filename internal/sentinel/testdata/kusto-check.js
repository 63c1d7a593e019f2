// Parses KQL queries with Microsoft's Kusto language service (@kusto/language-service-next), the
// table declared with its columns, and prints the error diagnostics of each: stdin is
// {"table": "AzureActivity", "columns": "(Name:type, …)", "queries": ["…"]}, stdout one JSON
// array of error lists.
const path = require("path");
const dir = process.env.KUSTO_MODULES;
require(path.join(dir, "@kusto/language-service-next/bridge.min.js"));
require(path.join(dir, "@kusto/language-service-next/Kusto.Language.Bridge.min.js"));
const K = Kusto.Language;
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const table = K.Symbols.TableSymbol.From(req.columns).WithName(req.table || "AzureActivity");
  const db = new K.Symbols.DatabaseSymbol.ctor("workspace", [table]);
  const globals = K.GlobalState.Default.WithDatabase(db);
  const out = req.queries.map((q) => {
    const d = K.KustoCode.ParseAndAnalyze(q, globals).GetDiagnostics();
    const errs = [];
    for (let i = 0; i < d.Count; i++) {
      const x = d.getItem(i);
      if (x.Severity === "Error") errs.push(x.Message + " (at " + x.Start + ")");
    }
    return errs;
  });
  process.stdout.write(JSON.stringify(out));
});
