package armclient

import (
	"encoding/base64"
	"testing"
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
