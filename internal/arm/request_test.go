package arm

import (
	"encoding/json"
	"testing"
)

// One request type, two JSON forms: a plan's request names its path (any cloud), a playbook's is
// bound to an endpoint and names its URL; a request without a body has no "body".
func TestRequestJSON(t *testing.T) {
	path := "/subscriptions/s/providers/Microsoft.Authorization/locks/l?api-version=2020-05-01"
	for _, c := range []struct {
		r          Request
		json, line string
	}{
		{Request{Method: "PUT", Path: path, Body: map[string]any{"properties": map[string]any{"level": "CanNotDelete"}}},
			`{"method":"PUT","path":"` + path + `","body":{"properties":{"level":"CanNotDelete"}}}`,
			`PUT ` + path + ` {"properties":{"level":"CanNotDelete"}}`},
		{Request{Method: "DELETE", Path: path, Endpoint: "https://management.usgovcloudapi.net"},
			`{"method":"DELETE","url":"https://management.usgovcloudapi.net` + path + `"}`,
			`DELETE https://management.usgovcloudapi.net` + path},
		{Request{Method: "PUT", Path: path, Endpoint: PublicEndpoint, Body: json.RawMessage(`{"a":1}`)},
			`{"method":"PUT","url":"https://management.azure.com` + path + `","body":{"a":1}}`,
			`PUT https://management.azure.com` + path + ` {"a":1}`},
	} {
		got, err := json.Marshal(c.r)
		if err != nil || string(got) != c.json {
			t.Errorf("json %s, %v; want %s", got, err, c.json)
		}
		if c.r.String() != c.line {
			t.Errorf("String %q; want %q", c.r.String(), c.line)
		}
	}
}
