package arm

import (
	"bytes"
	"encoding/json"
)

// Request is one REST call, the module's one request type: harden plans requests as a path under
// whichever cloud's management endpoint applies them, respond prints them bound to the endpoint of
// the cloud it was given (ARM's, or Microsoft Graph's to disable a service principal), and azsdk
// prepares and sends them through the SDK's typed clients.
type Request struct {
	Method string
	// Path is the path and query under Endpoint: "/subscriptions/…?api-version=…".
	Path string
	// Body is the JSON body, nil for none: a map for the requests Bulwark builds, a
	// json.RawMessage for the one the SDK will send.
	Body any
	// Endpoint is the host the request goes to ("https://management.azure.com"); empty means the
	// management endpoint of whichever cloud sends it.
	Endpoint string
}

// PublicEndpoint is Azure Resource Manager in the public cloud: the endpoint of a request whose
// cloud nobody named.
const PublicEndpoint = "https://management.azure.com"

// URL is the request's address: Endpoint followed by Path.
func (r Request) URL() string { return r.Endpoint + r.Path }

// String is the request on one line: the method, the URL and the compact JSON body, if any.
func (r Request) String() string {
	body := r.BodyJSON()
	if len(body) == 0 {
		return r.Method + " " + r.URL()
	}
	return r.Method + " " + r.URL() + " " + string(body)
}

// BodyJSON is the body as JSON bytes; nil when there is none.
func (r Request) BodyJSON() json.RawMessage {
	switch b := r.Body.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return b
	case []byte:
		return b
	}
	data, err := json.Marshal(r.Body)
	if err != nil {
		return nil
	}
	return data
}

// MarshalJSON writes {"method", "url", "body"} for a request bound to an endpoint (as a playbook
// prints it, ready to send) and {"method", "path", "body"} for one that is not (as a harden plan
// holds it, for any cloud); "body" is left out when there is none.
func (r Request) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"method":`)
	m, _ := json.Marshal(r.Method)
	b.Write(m)
	if r.Endpoint != "" {
		b.WriteString(`,"url":`)
		m, _ = json.Marshal(r.URL())
	} else {
		b.WriteString(`,"path":`)
		m, _ = json.Marshal(r.Path)
	}
	b.Write(m)
	if r.Body != nil {
		body, err := json.Marshal(r.Body)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"body":`)
		b.Write(body)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
