package assess

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/estatesim"
)

// genEstate builds the estatesim estate of about n objects.
func genEstate(n int) *arm.Snapshot {
	var objs []*arm.Object
	estatesim.Objects(n, func(b []byte) {
		o, err := arm.NewObject(append([]byte(nil), b...), arm.Source{File: "generated"})
		if err != nil {
			panic(err)
		}
		objs = append(objs, o)
	})
	return &arm.Snapshot{Resources: objs, CollectedAt: time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)}
}

// benchmarkAssess times NewEnv and Run on fresh objects each round: an Object decodes its JSON
// once and keeps it, so reusing one snapshot would time the decoding in the first round only,
// which flatters small estates (run many rounds) against large ones (run one).
func benchmarkAssess(b *testing.B, n int) {
	snap := genEstate(n)
	objects := float64(len(snap.Resources))
	b.ReportMetric(objects, "objects")
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		fresh := &arm.Snapshot{Resources: make([]*arm.Object, len(snap.Resources)), CollectedAt: snap.CollectedAt}
		for i, o := range snap.Resources {
			var err error
			if fresh.Resources[i], err = arm.NewObject(o.Raw, o.Source); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		rep := Run(NewEnv(Inputs{Snapshot: fresh, Config: config.Default()}), Checks())
		if len(rep.Results) == 0 {
			b.Fatal("no results")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/objects, "ns/object")
}

// BenchmarkAssess10k and BenchmarkAssess100k show how the cost grows with the estate;
// BenchmarkAssessScale runs the sizes, so ns/object shows whether it stays flat.
func BenchmarkAssess10k(b *testing.B)  { benchmarkAssess(b, 10_000) }
func BenchmarkAssess100k(b *testing.B) { benchmarkAssess(b, 100_000) }

func BenchmarkAssessScale(b *testing.B) {
	for _, n := range []int{10_000, 25_000, 50_000, 100_000, 200_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) { benchmarkAssess(b, n) })
	}
}
