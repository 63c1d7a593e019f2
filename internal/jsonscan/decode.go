package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxDecodeDepth is how deeply Decode nests, as encoding/json's limit.
const maxDecodeDepth = 10000

// Decode decodes one JSON document as encoding/json's Decoder with UseNumber decodes it into an
// interface: objects as map[string]any (a repeated key: the last wins), arrays as []any, numbers
// as json.Number, strings unescaped with invalid UTF-8 and lone surrogates as U+FFFD. It checks
// the input as it goes and fails on anything that is not one valid JSON value, so it is safe on
// any input; it is several times faster than encoding/json, which decodes through reflection
// (TestDecodeMatchesEncodingJSON).
func Decode(raw []byte) (any, error) {
	d := decoder{b: raw}
	v, err := d.value(skipSpace(raw, 0), 0)
	if err != nil {
		return nil, err
	}
	if i := skipSpace(raw, d.i); i != len(raw) {
		return nil, fmt.Errorf("invalid character %q after top-level value", raw[i])
	}
	return v, nil
}

type decoder struct {
	b []byte
	i int // after value: where it ended
}

var errEnd = errors.New("unexpected end of JSON input")

func (d *decoder) value(i, depth int) (any, error) {
	b := d.b
	if i >= len(b) {
		return nil, errEnd
	}
	switch c := b[i]; {
	case c == '{':
		if depth >= maxDecodeDepth {
			return nil, errors.New("exceeded max depth")
		}
		m := map[string]any{}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			d.i = i + 1
			return m, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, d.unexpected(i, "looking for beginning of object key string")
			}
			key, end, err := d.str(i)
			if err != nil {
				return nil, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return nil, d.unexpected(i, "after object key")
			}
			v, err := d.value(skipSpace(b, i+1), depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = v
			i = skipSpace(b, d.i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				d.i = i + 1
				return m, nil
			}
			return nil, d.unexpected(i, "after object key:value pair")
		}
	case c == '[':
		if depth >= maxDecodeDepth {
			return nil, errors.New("exceeded max depth")
		}
		a := []any{}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			d.i = i + 1
			return a, nil
		}
		for {
			v, err := d.value(i, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			i = skipSpace(b, d.i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				d.i = i + 1
				return a, nil
			}
			return nil, d.unexpected(i, "after array element")
		}
	case c == '"':
		s, end, err := d.str(i)
		d.i = end
		return s, err
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]struct {
			s string
			v any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if len(b)-i >= len(lit.s) && string(b[i:i+len(lit.s)]) == lit.s {
				d.i = i + len(lit.s)
				return lit.v, nil
			}
		}
		return nil, d.unexpected(i, "in literal")
	case c == '-' || c >= '0' && c <= '9':
		end, ok := validNumber(b, i)
		if !ok {
			return nil, d.unexpected(end, "in numeric literal")
		}
		d.i = end
		return json.Number(b[i:end]), nil
	}
	return nil, d.unexpected(i, "looking for beginning of value")
}

// str decodes the string starting at b[i] (its opening quote).
func (d *decoder) str(i int) (string, int, error) {
	b := d.b
	if end, ok := stringEnd(b, i+1); ok { // no escape, no control character
		s := b[i+1 : end-1]
		if utf8.Valid(s) {
			return string(s), end, nil
		}
		out, _ := Unquote(b[i:end])
		return out, end, nil
	}
	end, ok := validStringSlow(b, i)
	if !ok {
		if end >= len(b) {
			return "", end, errEnd
		}
		return "", end, d.unexpected(end, "in string literal")
	}
	out, ok := Unquote(b[i:end])
	if !ok {
		return "", end, d.unexpected(i, "in string literal")
	}
	return out, end, nil
}

func (d *decoder) unexpected(i int, where string) error {
	if i >= len(d.b) {
		return errEnd
	}
	return fmt.Errorf("invalid character %q %s (offset %d)", d.b[i], where, i)
}
