package jsonscan

// AppendIndent appends compact valid JSON (json.Marshal's output, with no space outside strings)
// to dst indented exactly as json.Indent does — each element on a new line beginning with prefix
// and one copy of indent per level, empty objects and arrays kept as {} and [], ": " after keys,
// no prefix before the first line — in one pass that only looks for the next structural byte.
// It exists because json.MarshalIndent runs encoding/json's validating scanner over every byte,
// which was the largest cost of writing 270,000 assessment results. Input that is not compact
// valid JSON gives unspecified output; callers pass only what json.Marshal wrote.
func AppendIndent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			end := skipString(src, i)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1])
				i++
				continue
			}
			dst = append(dst, c)
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			j := i + 1
			for j < len(src) && src[j] != ',' && src[j] != '}' && src[j] != ']' { // a number, true, false or null
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}
