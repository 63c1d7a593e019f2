// Package sigma is a complete Sigma engine for structured events: it parses detection and
// correlation rules, compiles them into matchers that evaluate without reflection or per-event
// allocation, and correlates matches over event time.
//
// Rules follow the Sigma rules specification and the correlation rules specification (v2.1):
// search identifiers as maps, lists of maps and keyword lists; null and empty values; wildcards
// * and ? with backslash escapes; conditions with and, or, not, parentheses, "1 of" and "all of"
// patterns and "them"; every modifier of the v2.1 appendix that applies to structured events
// (contains, startswith, endswith, all, exists, cased, neq, re with i/m/s, base64, base64offset,
// utf16le, utf16be, utf16, wide, windash, cidr, lt, lte, gt, gte, fieldref, expand, and the time
// modifiers minute, hour, day, week, month, year). Matching ignores case unless cased or re is
// used; regular expressions are RE2, so hostile rules cannot backtrack catastrophically.
// Unknown modifiers, malformed conditions and schema violations are errors with file, line and
// column; a rule set loads every valid rule and reports each invalid one.
//
// A RuleSet indexes rules by the literal values they require on a field (an Azure rule usually
// requires an operationName, or an operationName ending in "/delete"), so an event is only tested
// against rules that can match it.
//
// A Correlator runs the correlation rules — event_count, value_count, temporal,
// temporal_ordered, value_sum, value_avg and value_percentile, with group-by, aliases, chaining
// and generate — on event time. Matches are held until the watermark (the latest event time seen
// minus Options.Lateness, 20 minutes by default) passes them and are then processed in time
// order, so out-of-order input within the lateness produces exactly the alerts sorted input
// produces. Conditions that only ask for "at least" (gt, gte) fire as soon as they hold in a
// sliding window; others (lt, lte, eq, neq, ranges, averages) are decided when a window of
// timespan length closes. An alert consumes the events that made it. value_percentile compares
// the share (in percent) of the window's events that carry the newest event's value.
//
// Events are read through the small Event interface. JSONReader reads them straight from the bytes
// of JSON objects (a log line, a record): one validating pass, and each field extracted only when a
// rule asks for it — from raw JSON it is several times faster than decoding into a map first
// (BenchmarkFromJSON compares it with sigma-go). MapEvent adapts JSON already decoded. Field names
// can be mapped (Options.FieldMap) so one rule can address the same data under different names.
// Keyword searches of a rule set share one Aho–Corasick automaton: an event's strings are walked
// once for all of them, not once per rule.
//
// A RuleSet owns copies of the rules it was built from: several sets (with different field maps)
// can be built from the same parsed rules, concurrently, and changing those rules afterwards
// changes no set. ParseRules (one file's bytes) and LoadFS (every rule file below a folder of an
// fs.FS: an embedded pack, or os.DirFS(dir) for a folder on disk) parse; NewRuleSet compiles. The
// package does no I/O of its own: it reads files only through the fs.FS it is given.
//
// The package stays in Bulwark's module: beyond the standard library it needs only
// go.yaml.in/yaml/v3, and with the pruned module graphs of Go 1.17 and later a program that
// imports it compiles only what it imports — the Azure SDK that other Bulwark packages use is
// never built into it (its go.mod files are fetched to resolve the module graph). A module of its
// own would need its own versions and release tags; it can be split out when a consumer needs that.
package sigma
