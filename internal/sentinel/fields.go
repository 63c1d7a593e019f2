// Package sentinel converts Bulwark's Sigma rules (the built-in pack and users' own Azure Activity
// Log rules) to Microsoft Sentinel: KQL over the Log Analytics AzureActivity table, and Scheduled
// analytics rules around it (ARM). Detection rules convert through sigma.KQLWhere; correlation
// rules become summarize queries over their member rules. A rule that does not convert is
// reported with the construct and the reason, never dropped.
package sentinel

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Table is the Log Analytics table the queries read.
const Table = "AzureActivity"

// Columns are AzureActivity's columns and their types (the Log Analytics table reference), declared
// to the Kusto parser in the tests so queries are checked against them.
var Columns = [][2]string{
	{"TenantId", "string"}, {"SourceSystem", "string"}, {"CallerIpAddress", "string"}, {"CategoryValue", "string"},
	{"CorrelationId", "string"}, {"Authorization", "string"}, {"Authorization_d", "dynamic"}, {"Claims", "string"},
	{"Claims_d", "dynamic"}, {"Level", "string"}, {"OperationNameValue", "string"}, {"Properties", "string"},
	{"Properties_d", "dynamic"}, {"Caller", "string"}, {"EventDataId", "string"}, {"EventSubmissionTimestamp", "datetime"},
	{"HTTPRequest", "string"}, {"OperationId", "string"}, {"ResourceGroup", "string"}, {"ResourceProviderValue", "string"},
	{"ActivityStatusValue", "string"}, {"ActivitySubstatusValue", "string"}, {"Hierarchy", "string"}, {"TimeGenerated", "datetime"},
	{"SubscriptionId", "string"}, {"OperationName", "string"}, {"ActivityStatus", "string"}, {"ActivitySubstatus", "string"},
	{"Category", "string"}, {"ResourceId", "string"}, {"ResourceProvider", "string"}, {"Resource", "string"},
	{"Type", "string"}, {"_ResourceId", "string"}, {"_SubscriptionId", "string"},
}

// resultType is Bulwark's status normalisation (activity.normStatus) in KQL: the current columns'
// values and the legacy ones, whatever their case.
const resultType = `case(ActivityStatusValue in~ ("Start", "Started", "BeginRequest"), "Start", ActivityStatusValue in~ ("Accept", "Accepted"), "Accept", ` +
	`ActivityStatusValue in~ ("Success", "Succeeded", "EndRequest"), "Success", ActivityStatusValue in~ ("Failure", "Failed", "Fail"), "Failure", ActivityStatusValue)`

// Field is one canonical field (docs/activity-fields.md) and how AzureActivity holds it.
type Field struct {
	Name string // as rules address it, lower case
	Expr string // the KQL expression
	Note string
}

// Fields is the mapping from Bulwark's canonical Activity Log fields to AzureActivity, in the order
// docs/sentinel.md lists them.
var Fields = []Field{
	{"time", "TimeGenerated", ""},
	{"operationname", "OperationNameValue", ""},
	{"resulttype", "BulwarkResultType", "ActivityStatusValue normalised to Start, Accept, Success, Failure as Bulwark does (an extend before the where)"},
	{"resultsignature", "ActivitySubstatusValue", ""},
	{"category", "CategoryValue", ""},
	{"caller", "Caller", ""},
	{"calleripaddress", "CallerIpAddress", ""},
	{"correlationid", "CorrelationId", ""},
	{"operationid", "OperationId", ""},
	{"eventdataid", "EventDataId", ""},
	{"resourceid", "ResourceId", ""},
	{"subscriptionid", "SubscriptionId", ""},
	{"resourcegroup", "ResourceGroup", ""},
	{"resourceprovider", "ResourceProviderValue", ""},
	{"level", "Level", ""},
	{"principalid", `tostring(Claims_d["http://schemas.microsoft.com/identity/claims/objectidentifier"])`, "the caller's object ID from its claims"},
	{"appid", "tostring(Claims_d.appid)", "the caller's application ID from its claims"},
	{"bulwark.actor", "Caller", "the caller: Sentinel cannot attribute a principal to whoever granted it a role earlier, as bulwark detect does"},
	{"bulwark.cascadeof", "BulwarkCascadeOf",
		"non-empty for an event sharing its correlation ID with a resource-group delete in the query period (the group's child deletes); bulwark detect also checks that the resource lies in the group, and sees group deletes before the period"},
}

// groupDeletes defines BulwarkGroupDeletes, which bulwark.cascadeOf reads: the correlation IDs of the
// resource-group deletes in the query period.
const groupDeletes = `let BulwarkGroupDeletes = AzureActivity | where OperationNameValue =~ "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/DELETE" | distinct CorrelationId;` + "\n"

// statusAtom and cascadeAtom are the predicates on the computed columns that rules repeat most
// (every delete rule: the status is Success or Accept, the event is no child of a group delete).
var statusAtom = regexp.MustCompile(`BulwarkResultType (?:in~ \((?:@"[A-Za-z]+"(?:, )?)+\)|=~ @"[A-Za-z]+")`)

const cascadeAtom = "not(isnotempty(BulwarkCascadeOf))"

// shareAtoms computes a predicate on the computed columns that the query repeats once, as a
// boolean column of BulwarkActivity (Status1 = BulwarkResultType in~ (…)), and reads that:
// the same query, shorter, so chains of many rules fit an analytics rule's length.
func shareAtoms(kql string) (string, []string) {
	var defs []string
	counts := map[string]int{}
	var order []string
	for _, a := range statusAtom.FindAllString(kql, -1) {
		if counts[a]++; counts[a] == 1 {
			order = append(order, a)
		}
	}
	for i, a := range order {
		if counts[a] < 2 {
			continue
		}
		col := "Status" + strconv.Itoa(i+1)
		defs = append(defs, col+" = "+a)
		kql = strings.ReplaceAll(kql, a, col)
	}
	if strings.Count(kql, cascadeAtom) >= 2 {
		defs = append(defs, "NotCascade = "+cascadeAtom)
		kql = strings.ReplaceAll(kql, cascadeAtom, "NotCascade")
	}
	return kql, defs
}

// IsString reports whether a field expression already yields a string (a string column, or a
// computed one), so comparisons need no tostring().
func IsString(expr string) bool {
	for _, c := range Columns {
		if c[0] == expr {
			return c[1] == "string"
		}
	}
	for _, c := range computed {
		if c[0] == expr {
			return true
		}
	}
	return strings.HasPrefix(expr, "tostring(")
}

// The request and response bodies are JSON in a string inside Properties_d, under either spelling;
// like the normalised status, they are columns BulwarkActivity extends (see prelude).
const (
	requestBody  = "BulwarkRequestBody"
	responseBody = "BulwarkResponseBody"
)

// computed are the columns BulwarkActivity adds to AzureActivity, in order, with their expressions.
var computed = [][2]string{
	{"BulwarkResultType", resultType},
	{"BulwarkRequestBody", `tostring(coalesce(Properties_d.requestbody, Properties_d.requestBody))`},
	{"BulwarkResponseBody", `tostring(coalesce(Properties_d.responseBody, Properties_d.responsebody))`},
	{"BulwarkCascadeOf", `iff(CorrelationId in (BulwarkGroupDeletes) and OperationNameValue !~ "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/DELETE", ResourceGroup, "")`},
}

// Source is the table every query reads: AzureActivity with the computed columns.
const Source = "BulwarkActivity"

// prelude defines BulwarkActivity (and BulwarkGroupDeletes when the cascade column is read) with
// only the computed columns kql reads, so each is written once however many rules read it.
func prelude(kql string) string {
	var b strings.Builder
	var ext []string
	for _, c := range computed {
		if strings.Contains(kql, c[0]) {
			ext = append(ext, c[0]+" = "+c[1])
		}
	}
	if strings.Contains(kql, "BulwarkCascadeOf") {
		b.WriteString(groupDeletes)
	}
	kql, shared := shareAtoms(kql) // after: the shared columns read the computed ones
	b.WriteString("let " + Source + " = " + Table)
	if len(ext) > 0 {
		b.WriteString("\n| extend " + strings.Join(ext, ",\n    "))
	}
	if len(shared) > 0 { // a second extend: columns of one extend cannot read each other
		b.WriteString("\n| extend " + strings.Join(shared, ", "))
	}
	b.WriteString(";\n")
	return b.String() + kql
}

// FieldExpr returns the KQL expression of a field as a rule names it (case-insensitively, as
// Bulwark reads fields), or false when AzureActivity cannot provide it.
func FieldExpr(name string) (string, bool) {
	lower := strings.ToLower(name)
	for _, f := range Fields {
		if f.Name == lower {
			return f.Expr, true
		}
	}
	for _, c := range Columns { // a rule written against AzureActivity's own columns (as some of SigmaHQ's are)
		if strings.EqualFold(c[0], name) {
			return c[0], true
		}
	}
	for _, alias := range [][2]string{{"operationnamevalue", "operationname"}, {"activitystatusvalue", "resulttype"}, {"activitysubstatusvalue", "resultsignature"},
		{"categoryvalue", "category"}, {"status", "resulttype"}, {"substatus", "resultsignature"}} {
		if lower == alias[0] {
			return FieldExpr(alias[1])
		}
	}
	switch {
	case lower == "properties.requestbody":
		return requestBody, true
	case lower == "properties.responsebody":
		return responseBody, true
	case strings.HasPrefix(lower, "properties.requestbody."):
		return "parse_json(" + requestBody + ")" + dynamicPath(name[len("properties.requestbody."):]), true
	case strings.HasPrefix(lower, "properties.responsebody."):
		return "parse_json(" + responseBody + ")" + dynamicPath(name[len("properties.responsebody."):]), true
	case strings.HasPrefix(lower, "properties."):
		return "Properties_d" + dynamicPath(name[len("properties."):]), true
	case strings.HasPrefix(lower, "identity.authorization."):
		return "Authorization_d" + dynamicPath(name[len("identity.authorization."):]), true
	case strings.HasPrefix(lower, "authorization."):
		return "Authorization_d" + dynamicPath(name[len("authorization."):]), true
	case strings.HasPrefix(lower, "identity.claims."): // a claim's name is a URI, dots and all: one key
		return "Claims_d[" + quoted(name[len("identity.claims."):]) + "]", true
	case strings.HasPrefix(lower, "claims."):
		return "Claims_d[" + quoted(name[len("claims."):]) + "]", true
	}
	return "", false
}

// dynamicPath is a dotted path as bracketed property accesses of a dynamic value (["a"]["b"]):
// brackets take any key, which dots in KQL do not. Keys are matched as written: a dynamic
// value's keys are case-sensitive in KQL, where Bulwark ignores case.
func dynamicPath(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, ".") {
		b.WriteString("[" + quoted(seg) + "]")
	}
	return b.String()
}

// quoted is s as a KQL string literal in double quotes.
func quoted(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// documentedFields lists the field names docs/sentinel.md must hold (TestFieldsDocumented).
func documentedFields() []string {
	var out []string
	for _, f := range Fields {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}
