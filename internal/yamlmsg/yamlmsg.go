// Package yamlmsg rewrites the YAML decoder's errors in the terms of the file a user wrote — "line
// 2: breakGlass is a list of strings, not the number 5" — instead of Go's ("cannot unmarshal !!int
// `5` into []string", "field x not found in type config.Config").
package yamlmsg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	unknownField = regexp.MustCompile("^line (\\d+): field (\\S+) not found in type .+$")
	wrongType    = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")
)

// Explain rewrites a decoding error of a file: names maps Go types (as the decoder names them,
// "[]apps.App") to the file's own terms ("a list of applications"); known names list the keys a
// mapping may have, for an unknown-field hint. Errors it does not recognise come back unchanged.
func Explain(err error, names map[string]string, known string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	lines := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		switch {
		case unknownField.MatchString(e):
			m := unknownField.FindStringSubmatch(e)
			s := fmt.Sprintf("line %s: unknown setting %q", m[1], m[2])
			if known != "" {
				s += " (the settings are: " + known + ")"
			}
			lines = append(lines, s)
		case wrongType.MatchString(e):
			m := wrongType.FindStringSubmatch(e)
			lines = append(lines, fmt.Sprintf("line %s: %s is expected here, not %s", m[1], want(m[4], names), got(m[2], m[3])))
		default:
			lines = append(lines, e)
		}
	}
	return errors.New(strings.Join(lines, "; "))
}

func want(goType string, names map[string]string) string {
	if n, ok := names[goType]; ok {
		return n
	}
	switch {
	case goType == "string":
		return "a text value"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "[]string":
		return "a list of text values"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping of keys to values"
	}
	return "a mapping of settings"
}

func got(tag, value string) string {
	switch tag {
	case "!!int", "!!float":
		return "the number " + value
	case "!!bool":
		return value
	case "!!str":
		return fmt.Sprintf("the text %q", value)
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	}
	return value
}
