package detect

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/sigma"
)

// The incident policy: which alerts open an incident. A rule states its own in bulwark.incident;
// without it, a correlation of level high or critical opens one, and a detection rule opens one
// only when a principal granted a privileged role in the attack raised it at level high or above
// (Policies). Every other alert is an alert: listed, never an incident on its own, but it joins the
// incident of its actor when one opens near it. docs/detection.md has the table for the built-in
// pack.
const (
	PolicyOpen        = "open"        // one alert opens an incident: it removes recovery beyond doubt
	PolicyUnprotected = "unprotected" // opens when what it deleted had no soft delete (vault soft delete off)
	PolicyGranted     = "granted"     // opens when raised, at high or above, by a principal granted a privileged role in the attack
	PolicyContext     = "context"     // opens with another alert by the actor near it, or above the actor's own history
	PolicyAlert       = "alert"       // never opens an incident
)

// Policies lists the values of bulwark.incident.
var Policies = []string{PolicyOpen, PolicyUnprotected, PolicyGranted, PolicyContext, PolicyAlert}

// ChainWindow is how far apart an actor's alerts may be and still belong to one incident: the
// full chain's window. An incident takes the actor's alerts from ChainWindow before its first
// opening alert to ChainWindow after its last.
const ChainWindow = 24 * time.Hour

// grantWindow is how long after a privileged grant the grantee's high alerts open an incident.
const grantWindow = 24 * time.Hour

// msPIM is the application ID of Privileged Identity Management: the role assignments it writes are
// activations of eligible roles, the path the guidance recommends, not grants by an attacker.
const msPIM = "01fc33a7-78ba-4d2f-a4b7-768e336e890e"

// policyOf returns a rule's incident policy, and an error for a value that is not one.
func policyOf(r *sigma.Rule) (string, error) {
	if v, ok := r.Custom["bulwark.incident"]; ok {
		s, _ := v.(string)
		for _, p := range Policies {
			if strings.EqualFold(s, p) {
				return p, nil
			}
		}
		return "", fmt.Errorf("%s:%d: rule %q: bulwark.incident: %v is not one of %s", r.File, r.Line, r.Title, v, strings.Join(Policies, ", "))
	}
	if r.Correlation != nil {
		if r.Level.Rank() >= sigma.High.Rank() {
			return PolicyOpen, nil
		}
		return PolicyAlert, nil
	}
	if r.Level.Rank() >= sigma.High.Rank() {
		return PolicyGranted, nil
	}
	return PolicyAlert, nil
}

// CheckRule validates what Bulwark reads from a rule beyond Sigma: bulwark.incident and
// bulwark.stage. bulwark rules lint and New report the same errors.
func CheckRule(r *sigma.Rule) *sigma.Error {
	if _, err := policyOf(r); err != nil {
		return &sigma.Error{File: r.File, Line: r.Line, Column: r.Column, Rule: r.Title, Msg: "bulwark.incident: " + fmt.Sprint(r.Custom["bulwark.incident"]) + " is not one of " + strings.Join(Policies, ", ")}
	}
	if v, ok := r.Custom["bulwark.stage"]; ok {
		s, _ := v.(string)
		known := false
		for _, st := range Stages {
			known = known || s == st
		}
		if !known {
			return &sigma.Error{File: r.File, Line: r.Line, Column: r.Column, Rule: r.Title, Msg: fmt.Sprintf("bulwark.stage: %v is not one of %s", v, strings.Join(Stages, ", "))}
		}
	}
	return nil
}

// notePrivilegedGrant remembers the grantee of a privileged role assignment, for PolicyGranted.
func (d *Detector) notePrivilegedGrant(r *sigma.Rule, e *activity.Event) {
	if e.OperationLower() != opRoleAssignmentWrite || e.ResultType == "Failure" || strings.EqualFold(e.AppID, msPIM) {
		return
	}
	if s, _ := r.Custom["bulwark.stage"].(string); s != "privilege" {
		return
	}
	if g := granteeOf(e); g != "" {
		d.privGrants.put(principalKey(g), e.At)
	}
}

// grantedBefore returns when the principal of e was granted a privileged role, if within the
// grant window before e.
func (d *Detector) grantedBefore(e *activity.Event) (time.Time, bool) {
	if e.PrincipalID == "" {
		return time.Time{}, false
	}
	at, ok := d.privGrants.get(principalKey(e.PrincipalID))
	return at, ok && !e.At.Before(at) && e.At.Sub(at) <= grantWindow
}

// suppress marks the alerts a bulwark.yaml suppression in force matches, and counts them.
func (d *Detector) suppress() []SuppressionCount {
	d.suppressAlerts(d.alerts)
	var out []SuppressionCount
	for i, s := range d.opts.Suppress {
		c := SuppressionCount{Line: s.Line, Describe: s.Describe(), Reason: s.Reason, Owner: s.Owner, Expires: s.Until, Expired: !d.opts.Now.Before(s.Until)}
		if i < len(d.suppressed) {
			c.Alerts = d.suppressed[i]
		}
		out = append(out, c)
	}
	return out
}

// suppressAlerts marks the alerts the suppressions silence, counting them per suppression.
func (d *Detector) suppressAlerts(alerts []*Alert) {
	if len(d.suppressed) < len(d.opts.Suppress) {
		d.suppressed = make([]int, len(d.opts.Suppress))
	}
	for i, s := range d.opts.Suppress {
		if !d.opts.Now.Before(s.Until) { // expired: suppresses nothing
			continue
		}
		for _, a := range alerts {
			if a.Suppressed == nil && suppresses(s, a) {
				a.Suppressed = &Suppressed{Line: s.Line, Reason: s.Reason, Expires: s.Until}
				d.suppressed[i]++
			}
		}
	}
}

// SuppressionCount is what one suppression did in a run.
type SuppressionCount struct {
	Line     int       `json:"line"`
	Describe string    `json:"suppression"`
	Reason   string    `json:"reason"`
	Owner    string    `json:"owner,omitempty"`
	Expires  time.Time `json:"expires"`
	Expired  bool      `json:"expired"` // expired suppressions suppress nothing
	Alerts   int       `json:"alerts"`
}

// Suppressed marks an alert a suppression silenced.
type Suppressed struct {
	Line    int       `json:"line"` // of bulwark.yaml
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
}

func suppresses(s config.Suppression, a *Alert) bool {
	if s.Rule != "" && !strings.EqualFold(s.Rule, a.Rule.Name) && !strings.EqualFold(s.Rule, a.Rule.ID) {
		return false
	}
	if s.Caller == "" && s.AppID == "" && s.PrincipalID == "" && s.Scope == "" {
		return true
	}
	if len(a.Events) == 0 {
		return false
	}
	for _, e := range a.Events {
		switch {
		case s.Caller != "" && !strings.EqualFold(strings.TrimSpace(s.Caller), e.Caller):
			return false
		case s.AppID != "" && !strings.EqualFold(strings.TrimSpace(s.AppID), e.AppID):
			return false
		case s.PrincipalID != "" && principalKey(s.PrincipalID) != principalKey(e.PrincipalID):
			return false
		case s.Scope != "" && !below(e.ResourceID, s.Scope):
			return false
		}
	}
	return true
}

// below reports whether id is scope or below it, comparing ARM IDs without regard to case or a
// leading or trailing '/'.
func below(id, scope string) bool {
	id, scope = strings.ToLower(strings.Trim(id, "/")), strings.ToLower(strings.Trim(strings.TrimSpace(scope), "/"))
	return scope != "" && (id == scope || strings.HasPrefix(id, scope+"/"))
}

// opening is why an alert opens an incident, or "".
func (d *Detector) opening(a *Alert, mine []*Alert, unprotected map[string]time.Time) string {
	if a.Churn = d.churn(a); a.Churn {
		return "" // the actor removing what it made itself (a pipeline's ephemeral resources)
	}
	switch a.policy {
	case PolicyOpen:
		if a.Type == "correlation" {
			return fmt.Sprintf("correlation %s (%s)", a.Rule.Name, a.Rule.Level)
		}
		if a.failed() {
			return ""
		}
		return fmt.Sprintf("%s: removes recovery on its own", a.Rule.Name)
	case PolicyUnprotected:
		if a.failed() {
			return ""
		}
		for _, e := range a.Events {
			v := vaultOf(e.ResourceID)
			if t, ok := unprotected[v]; ok && !e.Time.Before(t) {
				return fmt.Sprintf("%s: deleted after soft delete was disabled on %s", a.Rule.Name, v[strings.LastIndex(v, "/")+1:])
			}
			if d.opts.Estate.recovery().SoftDeleteOff(e.ResourceID) {
				return fmt.Sprintf("%s: deleted from a vault whose soft delete is off (snapshot)", a.Rule.Name)
			}
		}
	case PolicyGranted:
		if !a.grantedAt.IsZero() && LevelRank(a.Rule.Level) >= LevelRank("high") {
			return fmt.Sprintf("%s by a principal granted a privileged role %s before", a.Rule.Name, a.Time.Sub(a.grantedAt).Round(time.Minute))
		}
	case PolicyContext:
		return d.contextOpens(a, mine)
	}
	return ""
}

// churn reports whether an alert is about what its actor created itself within ChainWindow before:
// the resource, the resource group holding it, or (for a Key Vault purge) the vault of that name.
// Removing what one made is a pipeline's or a test's clean-up, not an attack on recovery. A
// correlation is churn when every event it lists is.
func (d *Detector) churn(a *Alert) bool {
	if len(a.Events) == 0 {
		return false
	}
	for _, e := range a.Events {
		if !d.wrote(a.Actor, e) {
			return false
		}
	}
	return true
}

func (d *Detector) wrote(actor string, e EventRef) bool {
	for _, k := range writtenKeys(e.ResourceID) {
		if at, ok := d.written.get(strings.ToLower(actor) + "|" + k); ok && !at.After(e.Time) && e.Time.Sub(at) <= ChainWindow {
			return true
		}
	}
	return false
}

// eventChurn reports whether an event deletes or acts on what its actor created within
// ChainWindow before (see churn).
func (d *Detector) eventChurn(e *activity.Event) bool {
	if e.ResultType == "Failure" || hasSuffixFold(e.OperationName, "/write") || d.written.len() == 0 {
		return false
	}
	return d.wrote(e.Actor, EventRef{Time: e.At, ResourceID: e.ResourceID})
}

// dependsOn forgets, for churn, the Key Vaults an alerted change made other resources depend on:
// a storage account switched to a customer-managed key in a vault its actor created is no clean-up
// when that vault goes (the cloud-ransomware pattern). The vaults are named in the request body
// by URI (https://NAME.vault.azure.net) or by ARM ID.
func (d *Detector) dependsOn(e *activity.Event) {
	body, ok := e.RawProperty("requestbody")
	if !ok {
		return
	}
	body = strings.ToLower(body)
	actor := strings.ToLower(e.Actor)
	for _, m := range []string{".vault.azure.net", "/providers/microsoft.keyvault/vaults/"} {
		for rest := body; ; {
			i := strings.Index(rest, m)
			if i < 0 {
				break
			}
			var name string
			if m[0] == '.' { // the name ends at i and starts after "//"
				j := strings.LastIndex(rest[:i], "/")
				name = rest[j+1 : i]
			} else {
				name = rest[i+len(m):]
				if j := strings.IndexAny(name, `/"\`); j >= 0 {
					name = name[:j]
				}
			}
			if name != "" {
				d.written.del(actor + "|keyvault:" + name)
			}
			rest = rest[i+len(m):]
		}
	}
}

// writtenKeys are the keys under which a write to id is remembered, and a later alert on id looks
// it up: the ID itself, its resource group, and for a Key Vault (or a deleted vault) its name.
func writtenKeys(id string) []string {
	l := strings.ToLower(strings.TrimRight(id, "/"))
	keys := []string{l}
	if i := strings.Index(l, "/resourcegroups/"); i >= 0 {
		rest := l[i+len("/resourcegroups/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			keys = append(keys, l[:i+len("/resourcegroups/")+j])
		}
	}
	for _, m := range []string{"/providers/microsoft.keyvault/vaults/", "/deletedvaults/"} {
		if i := strings.Index(l, m); i >= 0 {
			name := l[i+len(m):]
			if j := strings.IndexByte(name, '/'); j >= 0 {
				name = name[:j]
			}
			keys = append(keys, "keyvault:"+name)
		}
	}
	return keys
}

// noteWrite remembers a write that created its resource, for churn: ARM answers a creating PUT
// with 201, which every format logs in the status's sub-status (diagnostic export resultSignature
// "Succeeded.Created", REST subStatus "Created", Log Analytics ActivitySubstatusValue "Created"); an
// update is "OK". Only a flat field is read, so flat events count too.
func (d *Detector) noteWrite(e *activity.Event) {
	if e.ResultType != "Success" || !hasSuffixFold(e.OperationName, "/write") || !hasSuffixFold(e.ResultSignature, "Created") {
		return
	}
	actor := strings.ToLower(e.Actor)
	l := e.ResourceLower()
	d.written.put(actor+"|"+l, e.At)
	if strings.Contains(l, "/providers/microsoft.keyvault/vaults/") {
		if k := writtenKeys(l); len(k) > 0 {
			d.written.put(actor+"|"+k[len(k)-1], e.At)
		}
	}
}

// failed reports whether the operation of a detection alert was refused.
func (a *Alert) failed() bool {
	if a.Type != "detection" {
		return false
	}
	for _, e := range a.Events {
		if e.ResultType == "Failure" {
			return true
		}
	}
	return false
}

// contextOpens decides a context alert: another alert by the actor within the window, or more
// resources than the actor's history explains.
func (d *Detector) contextOpens(a *Alert, mine []*Alert) string {
	cx := d.opts.Context
	from, to := a.Time.Add(-cx.Window.Duration), a.Last.Add(cx.Window.Duration)
	feeds := map[string]bool{}
	if a.rule != nil && a.rule.Correlation != nil {
		for _, r := range a.rule.Correlation.Rules {
			feeds[strings.ToLower(r)] = true
		}
	}
	for _, o := range mine {
		if o == a || o.policy == PolicyContext || feeds[strings.ToLower(o.Rule.Name)] || feeds[strings.ToLower(o.Rule.ID)] || o.failed() {
			continue
		}
		if !o.Time.Before(from) && !o.Time.After(to) {
			return fmt.Sprintf("%s with %s by the same actor within %s", a.Rule.Name, o.Rule.Name, config.FormatDuration(cx.Window.Duration))
		}
	}
	// The actor's history: distinct resources of the feeding rules per earlier day.
	span := time.Duration(0)
	if a.rule != nil && a.rule.Correlation != nil {
		span = a.rule.Correlation.Timespan
	}
	now := map[string]bool{}
	days := map[string]map[uint64]bool{}
	day0 := a.Time.UTC().Truncate(24 * time.Hour)
	earlier := func(t time.Time) bool { return t.Before(day0) && !t.Before(day0.AddDate(0, 0, -30)) }
	for _, o := range mine {
		if !(feeds[strings.ToLower(o.Rule.Name)] || feeds[strings.ToLower(o.Rule.ID)]) || len(o.Events) == 0 {
			continue
		}
		res := strings.ToLower(o.Events[0].ResourceID)
		switch {
		case !o.Time.Before(a.Time.Add(-span)) && !o.Time.After(a.Last):
			now[res] = true
		case earlier(o.Time):
			k := o.Time.UTC().Format("2006-01-02")
			if days[k] == nil {
				days[k] = map[uint64]bool{}
			}
			days[k][resourceHash(res)] = true
		}
	}
	// The days whose alerts Flush has let go, from what it kept of them.
	for k, byRule := range d.history[a.Actor] {
		t, _ := time.Parse("2006-01-02", k)
		if !earlier(t) {
			continue
		}
		for r, set := range byRule {
			if !feeds[r] {
				continue
			}
			if days[k] == nil {
				days[k] = map[uint64]bool{}
			}
			for h := range set {
				days[k][h] = true
			}
		}
	}
	busiest := 0
	for _, m := range days {
		busiest = max(busiest, len(m))
	}
	n := len(now)
	switch {
	case busiest == 0 && day0.Sub(d.firstAt) < 24*time.Hour:
		return "" // the log holds no earlier day to judge by
	case busiest == 0 && cx.FirstTime > 0 && n >= cx.FirstTime:
		return fmt.Sprintf("%s: %d resources, and no earlier day of it by this actor (firstTime %d)", a.Rule.Name, n, cx.FirstTime)
	case busiest > 0 && cx.HistoryFactor > 0 && float64(n) >= cx.HistoryFactor*float64(busiest):
		return fmt.Sprintf("%s: %d resources, %.3g times the actor's busiest earlier day (%d)", a.Rule.Name, n, float64(n)/float64(busiest), busiest)
	}
	return ""
}

// resourceHash is a resource ID (lower case) as the history Flush keeps holds it: 8 bytes.
func resourceHash(res string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(res))
	return h.Sum64()
}

// remember keeps, of alerts Flush lets go, what contextOpens reads of them later: per actor and
// day, the resources each rule alerted on (under the rule's name and its ID, lower case).
func (d *Detector) remember(alerts []*Alert) {
	if d.history == nil {
		d.history = map[string]map[string]map[string]map[uint64]bool{}
	}
	for _, o := range alerts {
		if o.Type != "detection" || len(o.Events) == 0 {
			continue
		}
		days := d.history[o.Actor]
		if days == nil {
			days = map[string]map[string]map[uint64]bool{}
			d.history[o.Actor] = days
		}
		k := o.Time.UTC().Format("2006-01-02")
		if days[k] == nil {
			days[k] = map[string]map[uint64]bool{}
		}
		h := resourceHash(strings.ToLower(o.Events[0].ResourceID))
		for _, r := range []string{strings.ToLower(o.Rule.Name), strings.ToLower(o.Rule.ID)} {
			if r == "" {
				continue
			}
			if days[k][r] == nil {
				days[k][r] = map[uint64]bool{}
			}
			days[k][r][h] = true
		}
	}
}

// forget drops the history of days more than 31 days before t: contextOpens looks back 30.
func (d *Detector) forget(t time.Time) {
	cut := t.UTC().Truncate(24*time.Hour).AddDate(0, 0, -31).Format("2006-01-02")
	for actor, days := range d.history {
		for k := range days {
			if k < cut {
				delete(days, k)
			}
		}
		if len(days) == 0 {
			delete(d.history, actor)
		}
	}
}

// disablesSoftDelete are the rules whose alerts turn a Recovery Services vault's soft delete off
// (or reduce its protection): backup data deleted after them is gone.
var disablesSoftDelete = map[string]bool{"inh_vault_soft_delete_disabled": true, "inh_vault_protection_reduced": true}

// softDeleteOff returns, for each Recovery Services vault (lower-case ID), when an alert among
// alerts first turned its soft delete off; refused leaves out events whose change did not take.
func softDeleteOff(alerts []*Alert, refused func(*Alert, EventRef) bool) map[string]time.Time {
	out := map[string]time.Time{}
	for _, a := range alerts {
		if a.Type != "detection" || !disablesSoftDelete[a.Rule.Name] {
			continue
		}
		for _, e := range a.Events {
			if refused(a, e) {
				continue
			}
			if v := vaultOf(e.ResourceID); v != "" {
				if t, ok := out[v]; !ok || e.Time.Before(t) {
					out[v] = e.Time
				}
			}
		}
	}
	return out
}

// unprotectedVaults is softDeleteOff over every alert of the run (by anyone), leaving out
// operations that failed.
func (d *Detector) unprotectedVaults() map[string]time.Time {
	out := softDeleteOff(d.alerts, func(a *Alert, _ EventRef) bool { return a.failed() })
	for v, t := range d.offBefore { // from alerts already flushed (Flush)
		if u, ok := out[v]; !ok || t.Before(u) {
			out[v] = t
		}
	}
	return out
}

// episodes splits one actor's alerts (oldest first) into the incidents they open: each opening
// alert takes the actor's alerts within ChainWindow of it, and overlapping spans merge. Alerts
// outside every span stay alerts.
func episodes(alerts []*Alert, opens map[*Alert]string) [][]*Alert {
	type span struct{ from, to time.Time }
	var spans []span
	for _, a := range alerts {
		if opens[a] == "" {
			continue
		}
		s := span{a.Time.Add(-ChainWindow), a.Last.Add(ChainWindow)}
		if n := len(spans); n > 0 && !s.from.After(spans[n-1].to) {
			if s.to.After(spans[n-1].to) {
				spans[n-1].to = s.to
			}
			continue
		}
		spans = append(spans, s)
	}
	out := make([][]*Alert, len(spans))
	for _, a := range alerts {
		i := sort.Search(len(spans), func(i int) bool { return !spans[i].to.Before(a.Time) })
		if i < len(spans) && !a.Time.Before(spans[i].from) {
			out[i] = append(out[i], a)
		}
	}
	return out
}

// policyMeaning explains each policy in the table of docs/detection.md.
var policyMeaning = map[string]string{
	PolicyOpen:        "opens an incident on its own",
	PolicyUnprotected: "opens one when the vault's soft delete was off (disabled earlier in the log, or off in --snapshot)",
	PolicyGranted:     "opens one when a principal granted a privileged role in the 24 h before raised it",
	PolicyContext:     "opens one with another alert by the actor within detection.context.window, or above the actor's history",
	PolicyAlert:       "never opens one; joins its actor's incident when one opens within 24 h",
}

// PolicyTable renders the incident policy of rules (their reported alerts: building blocks are
// left out) as the Markdown table in docs/detection.md, correlations first.
func PolicyTable(rs []*sigma.Rule) string {
	var rows []*sigma.Rule
	for _, r := range rs {
		if !buildingBlock(r) {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		ci, cj := rows[i].Correlation != nil, rows[j].Correlation != nil
		if ci != cj {
			return ci
		}
		return rows[i].Name < rows[j].Name
	})
	var b strings.Builder
	b.WriteString("| rule | level | stage | policy | so an alert of it |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		ref := RuleRefOf(r)
		fmt.Fprintf(&b, "| `%s` %s | %s | %s | `%s` | %s |\n", ref.Name, ref.Title, ref.Level, ref.Stage, ref.IncidentPolicy, policyMeaning[ref.IncidentPolicy])
	}
	return b.String()
}
