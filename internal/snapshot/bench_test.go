package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// estateJSON builds a Resource Graph result of n storage accounts shaped like real ones.
func estateJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"totalRecords":` + fmt.Sprint(n) + `,"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"/subscriptions/%08d-0000-4000-8000-000000000000/resourceGroups/rg-%d/providers/Microsoft.Storage/storageAccounts/st%d","name":"st%d","type":"microsoft.storage/storageaccounts","location":"westeurope","tags":{"app":"app%d","criticality":"high"},"sku":{"name":"Standard_GRS","tier":"Standard"},"kind":"StorageV2","properties":{"minimumTlsVersion":"TLS1_2","allowBlobPublicAccess":false,"encryption":{"keySource":"Microsoft.Storage","services":{"blob":{"enabled":true}}},"networkAcls":{"defaultAction":"Deny","bypass":"AzureServices"},"primaryEndpoints":{"blob":"https://st%d.blob.core.windows.net/"},"immutableStorageWithVersioning":{"enabled":true}}}`,
			i%20, i%500, i, i, i%50, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkMerge100k measures reading a 100,000-resource estate (the design's one-machine scale)
// and indexing it.
func BenchmarkMerge100k(b *testing.B) {
	data := estateJSON(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Merge(context.Background(), []File{{Name: "estate.json", Data: data}})
		if err != nil || len(res.Snapshot.Resources) != 100_000 {
			b.Fatalf("%v, %d", err, len(res.Snapshot.Resources))
		}
		if arm.NewIndex(res.Snapshot.Resources).Len() != 100_000 {
			b.Fatal("index")
		}
	}
}

func BenchmarkDecode1k(b *testing.B) {
	data := estateJSON(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(File{Name: "estate.json", Data: data}); err != nil {
			b.Fatal(err)
		}
	}
}
