package armclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

func TestPrincipalOf(t *testing.T) {
	tok := func(claims string) string {
		return "h." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	for _, c := range []struct{ token, want string }{
		{tok(`{"upn":"alice@contoso.example","oid":"o"}`), "alice@contoso.example"},
		{tok(`{"appid":"7f3a1111-aaaa-4bbb-8ccc-000000000fff","oid":"o"}`), "7f3a1111-aaaa-4bbb-8ccc-000000000fff"},
		{tok(`{"oid":"a11ce000"}`), "a11ce000"},
		{"opaque", "unknown principal"},
		{"a.!!!.c", "unknown principal"},
	} {
		if got := principalOf(c.token); got != c.want {
			t.Errorf("%s: %s, want %s", c.token, got, c.want)
		}
	}
}

// A failed request reads the same whether it came from Do or from an SDK client.
func TestErrorKinds(t *testing.T) {
	for _, c := range []struct {
		err              error
		notFound, locked bool
	}{
		{&Error{Status: 404}, true, false},
		{fmt.Errorf("GET x: %w", &azcore.ResponseError{StatusCode: 404, ErrorCode: "ResourceNotFound"}), true, false},
		{&Error{Status: 409, Code: "ScopeLocked"}, false, true},
		{fmt.Errorf("PATCH x: %w", &azcore.ResponseError{StatusCode: 409, ErrorCode: "ScopeLocked"}), false, true},
		{&azcore.ResponseError{StatusCode: 409, ErrorCode: "Conflict"}, false, false},
		{errors.New("dial tcp: refused"), false, false},
	} {
		if IsNotFound(c.err) != c.notFound || IsScopeLocked(c.err) != c.locked {
			t.Errorf("%v: not found %v, scope locked %v", c.err, IsNotFound(c.err), IsScopeLocked(c.err))
		}
	}
}
