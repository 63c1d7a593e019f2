package respond

// For the external tests (render_test.go, fuzz_test.go): report imports respond, so the tests that
// render playbooks live in package respond_test and reach the goldens through these.
var (
	Playbooks = playbooks
	Golden    = golden
)

// BodyFile is the file a rebuild step's commands read its Body from.
func BodyFile(s *Step) string { return s.bodyFile }
