package assess

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/config"
)

func TestZZHeap(t *testing.T) {
	if os.Getenv("BW_HEAP") == "" {
		t.Skip()
	}
	snap := genEstate(100_000)
	e := NewEnv(Inputs{Snapshot: snap, Config: config.Default()})
	rep := Run(e, Checks())
	runtime.GC()
	f, _ := os.Create(os.Getenv("BW_HEAP"))
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Log(len(rep.Results), ms.HeapAlloc>>20, "MB live")
	runtime.KeepAlive(e)
}
