// Package iac reads the infrastructure-as-code users point Bulwark to — ARM JSON templates (what
// Bicep compiles to), Terraform state (.tfstate v4 and `terraform show -json`) and Terraform plan
// JSON — into a list of declared resources that can be matched to live ones and compared with them.
package iac

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Resource is one declared resource.
type Resource struct {
	Type          string         // ARM type, e.g. Microsoft.Network/virtualNetworks
	Name          string         // resolved name; empty when it could not be resolved
	ResourceGroup string         // when the source says (Terraform)
	ID            string         // when the source has it (Terraform state)
	Properties    map[string]any // ARM-shaped properties, expressions resolved where they could be
	Source        string         // file and location
	File          string         // the file that declares it
	Format        string         // "arm-template" or "terraform"
	Address       string         // where in the file: a JSON path (templates) or the Terraform address
	Unresolved    string         // why Name could not be resolved
}

// Inventory is every declared resource, plus notes on what could not be read or resolved.
type Inventory struct {
	Resources []Resource
	Notes     []string
	Files     int
}

// LoadFS reads every template and state file below root in fsys (the embedded demo's iac/).
func LoadFS(fsys fs.FS, root string) (*Inventory, error) {
	inv := &Inventory{}
	if err := inv.AddFS(fsys, root, func(rel string) string { return rel }); err != nil {
		return nil, err
	}
	return inv, nil
}

// AddFS reads every template and state file below root in fsys; display names a file in notes,
// sources and errors (the file it was read from).
func (inv *Inventory) AddFS(fsys fs.FS, root string, display func(string) string) error {
	return fs.WalkDir(fsys, root, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read IaC %s: %w", display(f), err)
		}
		if d.IsDir() {
			if f != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if n := strings.ToLower(d.Name()); strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".tfstate") {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return fmt.Errorf("read IaC %s: %w", display(f), err)
			}
			return inv.Add(display(f), data)
		}
		return nil
	})
}

// Add reads one document; name is used in notes and sources.
func (inv *Inventory) Add(name string, data []byte) error {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: not JSON: %w", name, err)
	}
	inv.Files++
	switch {
	case strings.Contains(strings.ToLower(str(doc["$schema"])), "deploymenttemplate"):
		inv.addTemplate(name, doc)
	case doc["version"] != nil && doc["terraform_version"] != nil && doc["resources"] != nil:
		inv.addTFState(name, doc)
	case doc["planned_values"] != nil || doc["values"] != nil:
		inv.addTFShow(name, doc)
	default:
		inv.Notes = append(inv.Notes, name+": not an ARM template or Terraform state/plan; ignored")
	}
	return nil
}

// Find returns the declared resource matching a live object: by ID when the declaration has one,
// else by type and name (and resource group when the declaration says), ignoring case.
func (inv *Inventory) Find(o *arm.Object) (*Resource, bool) {
	if inv == nil {
		return nil, false
	}
	for i := range inv.Resources {
		r := &inv.Resources[i]
		if r.ID != "" {
			if strings.EqualFold(strings.TrimSuffix(r.ID, "/"), o.ID.String()) {
				return r, true
			}
			continue
		}
		if r.Name == "" || !strings.EqualFold(r.Type, arm.CanonicalType(o.Type())) && !strings.EqualFold(r.Type, o.Type()) {
			continue
		}
		if !strings.EqualFold(r.Name, o.Name()) {
			continue
		}
		if r.ResourceGroup != "" && !strings.EqualFold(r.ResourceGroup, o.ID.ResourceGroup()) {
			continue
		}
		return r, true
	}
	return nil, false
}

// UnresolvedOfType returns declarations of a type whose names could not be resolved: a live
// resource may be one of them.
func (inv *Inventory) UnresolvedOfType(typ string) []Resource {
	if inv == nil {
		return nil
	}
	var out []Resource
	for _, r := range inv.Resources {
		if r.Name == "" && strings.EqualFold(r.Type, arm.CanonicalType(typ)) {
			out = append(out, r)
		}
	}
	return out
}

// ---- ARM templates

var exprCall = regexp.MustCompile(`^\s*(parameters|variables)\(\s*'([^']*)'\s*\)\s*$`)

type template struct {
	params map[string]any
	vars   map[string]any
}

func (inv *Inventory) addTemplate(name string, doc map[string]any) {
	t := template{params: map[string]any{}, vars: map[string]any{}}
	if ps, ok := doc["parameters"].(map[string]any); ok {
		for k, v := range ps {
			if m, ok := v.(map[string]any); ok {
				if d, ok := m["defaultValue"]; ok {
					t.params[strings.ToLower(k)] = d
				} else {
					t.params[strings.ToLower(k)] = missing{k}
				}
			}
		}
	}
	if vs, ok := doc["variables"].(map[string]any); ok {
		for k, v := range vs {
			t.vars[strings.ToLower(k)] = v
		}
	}
	inv.addTemplateResources(name, &t, doc["resources"], "", "", "resources")
}

type missing struct{ param string }

func (inv *Inventory) addTemplateResources(file string, t *template, list any, parentType, parentName, path string) {
	rs, _ := list.([]any)
	for i, r := range rs {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		typ := str(m["type"])
		if parentType != "" && !strings.Contains(typ, "/") {
			typ = parentType + "/" + typ
		}
		if strings.EqualFold(typ, "Microsoft.Resources/deployments") {
			// Nested deployments with an inline template declare resources too.
			if props, ok := m["properties"].(map[string]any); ok {
				if tpl, ok := props["template"].(map[string]any); ok {
					inv.addTemplate(file+" $."+p+".properties.template", tpl)
				}
			}
			continue
		}
		nameVal, why := t.resolve(m["name"])
		nm, _ := nameVal.(string)
		if parentName != "" && nm != "" && !strings.Contains(nm, "/") {
			nm = parentName + "/" + nm
		}
		res := Resource{Type: arm.CanonicalType(typ), Source: file + " $." + p, File: templateFile(file), Format: "arm-template", Address: "$." + p}
		if why != "" || nm == "" {
			res.Unresolved = fmt.Sprintf("name %v cannot be resolved: %s", m["name"], orDefault(why, "not a string"))
			inv.Notes = append(inv.Notes, fmt.Sprintf("%s $.%s: %s %s", file, p, typ, res.Unresolved))
		} else {
			res.Name = nm // child resources keep "parent/child"
		}
		if props, ok := m["properties"].(map[string]any); ok {
			v, _ := t.resolveAll(props)
			res.Properties, _ = v.(map[string]any)
		}
		inv.Resources = append(inv.Resources, res)
		if children, ok := m["resources"]; ok {
			inv.addTemplateResources(file, t, children, typ, nm, p+".resources")
		}
	}
}

// resolve evaluates the template expressions Bulwark understands in a name: literals,
// [parameters('x')] and [variables('x')] (with defaults), and concat/format over those.
func (t *template) resolve(v any) (any, string) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") || !strings.HasSuffix(s, "]") {
		if ok && strings.HasPrefix(s, "[[") {
			return s[1:], ""
		}
		return v, ""
	}
	return t.eval(strings.TrimSpace(s[1 : len(s)-1]))
}

func (t *template) eval(expr string) (any, string) {
	if m := exprCall.FindStringSubmatch(expr); m != nil {
		src := t.params
		if m[1] == "variables" {
			src = t.vars
		}
		val, ok := src[strings.ToLower(m[2])]
		switch {
		case !ok:
			return nil, fmt.Sprintf("%s '%s' is not defined", strings.TrimSuffix(m[1], "s"), m[2])
		case m[1] == "parameters":
			if ms, isMissing := val.(missing); isMissing {
				return nil, fmt.Sprintf("parameter '%s' has no default value", ms.param)
			}
		}
		if m[1] == "variables" {
			return t.resolve(val)
		}
		return val, ""
	}
	if strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'") && len(expr) >= 2 {
		return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'"), ""
	}
	for _, fn := range []string{"concat", "format"} {
		if strings.HasPrefix(expr, fn+"(") && strings.HasSuffix(expr, ")") {
			args := splitArgs(expr[len(fn)+1 : len(expr)-1])
			vals := make([]string, len(args))
			for i, a := range args {
				v, why := t.eval(a)
				if why != "" {
					return nil, why
				}
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Sprintf("%s argument %s is not a string", fn, a)
				}
				vals[i] = s
			}
			if fn == "concat" {
				return strings.Join(vals, ""), ""
			}
			if len(vals) == 0 {
				return nil, "format without arguments"
			}
			out := vals[0]
			for i, v := range vals[1:] {
				out = strings.ReplaceAll(out, fmt.Sprintf("{%d}", i), v)
			}
			return out, ""
		}
	}
	return nil, fmt.Sprintf("expression [%s] is not evaluated by Bulwark", expr)
}

// resolveAll resolves expressions inside a value tree; unresolvable ones are kept as written.
func (t *template) resolveAll(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		r, why := t.resolve(x)
		if why != "" {
			return x, false
		}
		return r, true
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k], _ = t.resolveAll(e)
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i], _ = t.resolveAll(e)
		}
		return out, true
	}
	return v, true
}

// splitArgs splits function arguments at top-level commas, respecting quotes and parentheses.
func splitArgs(s string) []string {
	var out []string
	depth, start, inQuote := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}

// ---- Terraform

// tfTypes maps azurerm resource types to ARM types, for plans whose resources have no ID yet.
var tfTypes = map[string]string{
	"azurerm_virtual_network":                   "Microsoft.Network/virtualNetworks",
	"azurerm_network_security_group":            "Microsoft.Network/networkSecurityGroups",
	"azurerm_route_table":                       "Microsoft.Network/routeTables",
	"azurerm_lb":                                "Microsoft.Network/loadBalancers",
	"azurerm_public_ip":                         "Microsoft.Network/publicIPAddresses",
	"azurerm_virtual_network_gateway":           "Microsoft.Network/virtualNetworkGateways",
	"azurerm_application_gateway":               "Microsoft.Network/applicationGateways",
	"azurerm_firewall":                          "Microsoft.Network/azureFirewalls",
	"azurerm_dns_zone":                          "Microsoft.Network/dnszones",
	"azurerm_private_dns_zone":                  "Microsoft.Network/privateDnsZones",
	"azurerm_automation_account":                "Microsoft.Automation/automationAccounts",
	"azurerm_linux_virtual_machine_scale_set":   "Microsoft.Compute/virtualMachineScaleSets",
	"azurerm_windows_virtual_machine_scale_set": "Microsoft.Compute/virtualMachineScaleSets",
	"azurerm_user_assigned_identity":            "Microsoft.ManagedIdentity/userAssignedIdentities",
}

func (inv *Inventory) addTFState(name string, doc map[string]any) {
	rs, _ := doc["resources"].([]any)
	for i, r := range rs {
		m, _ := r.(map[string]any)
		if str(m["mode"]) != "managed" {
			continue
		}
		insts, _ := m["instances"].([]any)
		for j, in := range insts {
			im, _ := in.(map[string]any)
			attrs, _ := im["attributes"].(map[string]any)
			addr := str(m["type"]) + "." + str(m["name"])
			if mod := str(m["module"]); mod != "" {
				addr = mod + "." + addr
			}
			if k, ok := im["index_key"]; ok {
				if ks, ok := k.(string); ok {
					addr += fmt.Sprintf("[%q]", ks)
				} else {
					addr += fmt.Sprintf("[%v]", k)
				}
			}
			inv.addTF(name, fmt.Sprintf("$.resources[%d].instances[%d]", i, j), addr, str(m["type"]), attrs)
		}
	}
}

func (inv *Inventory) addTFShow(name string, doc map[string]any) {
	root := doc["values"]
	if pv, ok := doc["planned_values"]; ok {
		root = pv
	}
	rm, _ := root.(map[string]any)
	var walk func(mod map[string]any, path string)
	walk = func(mod map[string]any, path string) {
		rs, _ := mod["resources"].([]any)
		for i, r := range rs {
			m, _ := r.(map[string]any)
			if str(m["mode"]) != "managed" {
				continue
			}
			vals, _ := m["values"].(map[string]any)
			inv.addTF(name, fmt.Sprintf("%s.resources[%d] (%s)", path, i, str(m["address"])), str(m["address"]), str(m["type"]), vals)
		}
		cms, _ := mod["child_modules"].([]any)
		for i, c := range cms {
			cm, _ := c.(map[string]any)
			walk(cm, fmt.Sprintf("%s.child_modules[%d]", path, i))
		}
	}
	if rmod, ok := rm["root_module"].(map[string]any); ok {
		walk(rmod, "$.root_module")
	}
}

func (inv *Inventory) addTF(file, path, address, tfType string, attrs map[string]any) {
	res := Resource{Source: file + " " + path, Name: str(attrs["name"]), ResourceGroup: str(attrs["resource_group_name"]),
		File: file, Format: "terraform", Address: address}
	if id := str(attrs["id"]); id != "" {
		if pid, err := arm.ParseID(id); err == nil {
			res.ID, res.Type = pid.String(), arm.CanonicalType(pid.Type())
		}
	}
	if res.Type == "" {
		res.Type = tfTypes[tfType]
	}
	if res.Type == "" {
		return // not an ARM resource Bulwark compares (providers other than azurerm, data sources…)
	}
	res.Properties = tfProperties(tfType, attrs)
	inv.Resources = append(inv.Resources, res)
}

// tfProperties converts the azurerm attributes CFG-002 compares into ARM property shapes.
func tfProperties(tfType string, a map[string]any) map[string]any {
	switch tfType {
	case "azurerm_virtual_network":
		p := map[string]any{"addressSpace": map[string]any{"addressPrefixes": a["address_space"]}}
		if subs, ok := a["subnet"].([]any); ok {
			var out []any
			for _, s := range subs {
				sm, _ := s.(map[string]any)
				prefix := sm["address_prefix"]
				if prefix == nil {
					if l, ok := sm["address_prefixes"].([]any); ok && len(l) > 0 {
						prefix = l[0]
					}
				}
				out = append(out, map[string]any{"name": sm["name"], "properties": map[string]any{"addressPrefix": prefix}})
			}
			p["subnets"] = out
		}
		return p
	case "azurerm_network_security_group":
		var rules []any
		rs, _ := a["security_rule"].([]any)
		for _, r := range rs {
			rm, _ := r.(map[string]any)
			rules = append(rules, map[string]any{"name": rm["name"], "properties": map[string]any{
				"priority": rm["priority"], "direction": rm["direction"], "access": rm["access"], "protocol": rm["protocol"],
				"sourceAddressPrefix": rm["source_address_prefix"], "destinationAddressPrefix": rm["destination_address_prefix"],
				"destinationPortRange": rm["destination_port_range"]}})
		}
		return map[string]any{"securityRules": rules}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// SortedNames is a helper for tests and notes.
func SortedNames(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Type+" "+r.Name)
	}
	sort.Strings(out)
	return out
}

// templateFile is the file of a template source: nested inline templates are named
// "file $.path.properties.template"; the file is what a deployment is run from.
func templateFile(source string) string {
	if i := strings.Index(source, " $."); i >= 0 {
		return source[:i]
	}
	return source
}
