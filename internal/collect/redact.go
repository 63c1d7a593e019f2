package collect

import (
	"strings"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// SecretProperties are the property names whose values collect replaces with Redacted before an
// object is kept (Options.KeepSecrets keeps them): connection strings, keys, passwords, secrets and
// the user or custom data of VMs and scale sets, wherever they appear in an object (App Insights
// components' ConnectionString and InstrumentationKey, web apps' siteConfig.appSettings and
// connectionStrings, AKS servicePrincipalProfile.secret and windowsProfile.adminPassword, VM and
// scale set osProfile.adminPassword, customData and userData, Redis accessKeys, …). Names match
// case-insensitively; only string, object and array values are replaced (null, numbers and
// booleans carry no secret). No check reads any of them.
var SecretProperties = []string{
	"password", "adminPassword", "administratorLoginPassword", "secret", "clientSecret",
	"connectionString", "connectionStrings", "primaryConnectionString", "secondaryConnectionString",
	"accessKeys", "primaryKey", "secondaryKey", "primaryMasterKey", "secondaryMasterKey", "accountKey",
	"storageAccountKey", "storageAccountAccessKey", "sharedAccessKey", "sasToken", "instrumentationKey",
	"customData", "userData", "appSettings",
}

// Redacted replaces a secret's value in a collected object.
const Redacted = `"[redacted by bulwark]"`

var secretKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range SecretProperties {
		m[strings.ToLower(k)] = true
	}
	return m
}()

// isSecretKey reports a key of SecretProperties, without allocating (every key of every collected
// object is asked).
func isSecretKey(k []byte) bool {
	if len(k) < 6 || len(k) > 26 {
		return false
	}
	var buf [26]byte
	for i, c := range k {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return secretKeys[string(buf[:len(k)])]
}

// redact returns raw (valid JSON) with the values of SecretProperties replaced by Redacted, and
// how many it replaced; raw itself when there are none. Everything else, member order included,
// is kept byte for byte.
func redact(raw []byte) ([]byte, int) {
	var spans [][2]int // byte ranges of raw to replace, in order
	var walk func(v []byte)
	walk = func(v []byte) {
		switch jsonscan.First(v) {
		case '{':
			jsonscan.ObjectBytes(v, func(k, val []byte) bool {
				if isSecretKey(k) {
					if c := jsonscan.First(val); c == '"' || c == '{' || c == '[' {
						if !(c == '"' && len(val) == 2) { // "" holds nothing
							start := cap(raw) - cap(val)
							spans = append(spans, [2]int{start, start + len(val)})
						}
						return true
					}
				}
				walk(val)
				return true
			})
		case '[':
			jsonscan.Array(v, func(_ int, val []byte) bool {
				walk(val)
				return true
			})
		}
	}
	walk(raw)
	if len(spans) == 0 {
		return raw, 0
	}
	out := make([]byte, 0, len(raw))
	at := 0
	for _, s := range spans {
		out = append(out, raw[at:s[0]]...)
		out = append(out, Redacted...)
		at = s[1]
	}
	return append(out, raw[at:]...), len(spans)
}
