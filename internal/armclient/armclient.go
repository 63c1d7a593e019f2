// Package armclient sends raw Azure Resource Manager requests through azcore's pipeline (bearer
// token, retries with back-off honouring Retry-After, a per-try timeout) and returns raw JSON.
// Collection's ARM GETs go through it; writes go through the SDK's typed clients (package azsdk),
// which take their client options from here. Principal names who a credential signs in as.
package armclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// Options configure a client.
type Options struct {
	Credential azcore.TokenCredential
	Cloud      cloud.Configuration
	Transport  policy.Transporter // tests: a fake
	MaxRetries int32
	RetryDelay time.Duration
	TryTimeout time.Duration
}

// Client sends ARM requests.
type Client struct {
	c     *azarm.Client
	host  string
	cred  azcore.TokenCredential
	cloud cloud.Configuration
}

// ClientOptions are the azcore options of every Bulwark client, raw or typed: the cloud (public by
// default), retries with back-off honouring Retry-After (6 by default), a per-try timeout (60 s by
// default), Bulwark's application ID in the User-Agent.
func (o Options) ClientOptions() *azarm.ClientOptions {
	if o.Cloud.Services == nil {
		o.Cloud = cloud.AzurePublic
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 6
	}
	if o.TryTimeout == 0 {
		o.TryTimeout = 60 * time.Second
	}
	return &azarm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: o.Cloud, Transport: o.Transport, Telemetry: policy.TelemetryOptions{ApplicationID: "bulwark"},
		Retry: policy.RetryOptions{MaxRetries: o.MaxRetries, RetryDelay: o.RetryDelay, TryTimeout: o.TryTimeout},
	}}
}

// New builds a client.
func New(o Options) (*Client, error) {
	opts := o.ClientOptions()
	o.Cloud = opts.Cloud
	c, err := azarm.NewClient("bulwark", "v1.0.0", o.Credential, opts)
	if err != nil {
		return nil, err
	}
	return &Client{c: c, host: strings.TrimSuffix(c.Endpoint(), "/"), cred: o.Credential, cloud: o.Cloud}, nil
}

// Response is a request's outcome: the status and the raw body.
type Response struct {
	Status int
	Body   []byte
}

// Error is a non-2xx answer, with ARM's error code.
type Error struct {
	Method, URL string
	Status      int
	Code        string
	Message     string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// status returns the HTTP status and ARM error code of a failed request, whether it came from
// Client.Do (*Error) or from an SDK client (*azcore.ResponseError).
func status(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Code
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	st, _ := status(err)
	return st == http.StatusNotFound
}

// CheckLink reports whether a link a response handed back (a list's nextLink) may be followed with
// this client's bearer token: https, on the configured cloud's ARM host, with no user info. Any other
// link is refused, so a response can never send the token to another host.
func (c *Client) CheckLink(link string) error {
	u, err := neturl.Parse(link)
	if err != nil {
		return fmt.Errorf("the nextLink is not a URL: %v", err)
	}
	host, err := neturl.Parse(c.host)
	if err != nil {
		return err
	}
	if !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Host, host.Host) || u.User != nil {
		return fmt.Errorf("the nextLink points to %s://%s, not to %s: not followed (the bearer token goes only to the configured cloud's Resource Manager)", u.Scheme, u.Host, host.Host)
	}
	return nil
}

// HasCode reports a failed request whose ARM error code is one of codes (case-insensitive).
func HasCode(err error, codes ...string) bool {
	_, code := status(err)
	for _, c := range codes {
		if code != "" && strings.EqualFold(code, c) {
			return true
		}
	}
	return false
}

// IsScopeLocked reports a write refused by a management lock (409 ScopeLocked).
func IsScopeLocked(err error) bool {
	st, code := status(err)
	return st == http.StatusConflict && strings.EqualFold(code, "ScopeLocked")
}

// Do sends method to url (absolute, or a path under the management endpoint) with an optional JSON
// body. api names the operation (runtime.CtxAPINameKey) as the SDK clients do.
func (c *Client) Do(ctx context.Context, method, url string, body []byte, api string) (Response, error) {
	if strings.HasPrefix(url, "/") {
		url = c.host + url
	}
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, api)
	req, err := runtime.NewRequest(ctx, method, url)
	if err != nil {
		return Response{}, err
	}
	req.Raw().Header.Set("Accept", "application/json")
	if body != nil {
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
			return Response{}, err
		}
	}
	resp, err := c.c.Pipeline().Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	data, err := runtime.Payload(resp)
	if err != nil {
		return Response{Status: resp.StatusCode}, fmt.Errorf("%s %s: read the response: %w", method, url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Method: method, URL: url, Status: resp.StatusCode}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &body) == nil {
			e.Code, e.Message = body.Error.Code, body.Error.Message
		}
		return Response{Status: resp.StatusCode, Body: data}, e
	}
	return Response{Status: resp.StatusCode, Body: data}, nil
}

// Principal names who the credential signs in as — the UPN, else the application ID, else the
// object ID — read from the claims of an ARM token. The token itself is never kept or printed.
func (c *Client) Principal(ctx context.Context) (string, error) {
	return Principal(ctx, c.cred, c.cloud)
}

// Principal is Client.Principal for a credential and cloud.
func Principal(ctx context.Context, cred azcore.TokenCredential, cl cloud.Configuration) (string, error) {
	audience := "https://management.azure.com"
	if svc, ok := cl.Services[cloud.ResourceManager]; ok && svc.Audience != "" {
		audience = svc.Audience
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{strings.TrimSuffix(audience, "/") + "/.default"}})
	if err != nil {
		return "", fmt.Errorf("no Azure credential works (sign in with az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID and a secret, certificate or federated token, or run with a managed identity): %w", err)
	}
	return principalOf(tok.Token), nil
}

func principalOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "unknown principal"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "unknown principal"
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return "unknown principal"
	}
	for _, k := range []string{"upn", "unique_name", "appid", "azp", "oid"} {
		if s, ok := claims[k].(string); ok && s != "" {
			return s
		}
	}
	return "unknown principal"
}
