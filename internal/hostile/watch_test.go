package hostile

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/bulwarkhq/bulwark/examples"
)

// TestWatchEventHubsAndSIGTERM runs the binary as an Event Hubs user would — the connection
// string in an environment variable, SASL PLAIN as $ConnectionString over TLS (franz-go's
// in-process Kafka on loopback, with a certificate made for the test and trusted through
// --tls-ca) — on the demo published across 4 partitions: the demo's incident arrives in --out,
// /readyz and /metrics answer, and SIGTERM makes it stop consuming, checkpoint, commit and exit
// 0; the connection string's key is in no log line.
func TestWatchEventHubsAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cert, caFile := selfSigned(t, dir)
	const key = "c2VjcmV0LWtleS1ub3QtdG8tYmUtbG9nZ2Vk"
	conn := "Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=bulwark-listen;SharedAccessKey=" + key + ";EntityPath=insights-activity-logs"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "insights-activity-logs"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}), kfake.EnableSASL(), kfake.Superuser("PLAIN", "$ConnectionString", conn))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}),
		kgo.SASL(plain.Auth{User: "$ConnectionString", Pass: conn}.AsMechanism()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	recs := demoLines(t)
	for i := 0; i < len(recs); i += 4 {
		doc, _ := json.Marshal(map[string][]json.RawMessage{"records": recs[i:min(i+4, len(recs))]})
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "insights-activity-logs", Partition: int32(i / 4 % 4), Value: doc}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	out := filepath.Join(dir, "alerts.jsonl")
	state := filepath.Join(dir, "state")
	cmd := exec.Command(binary, "watch", "--sasl-connection-string-env", "EH_CONN", "--brokers", c.ListenAddrs()[0], "--tls-ca", caFile,
		"--state", state, "--from", "earliest", "--checkpoint-interval", "100ms", "--out", out, "--listen", listen, "--log-format", "json",
		"--lateness", "1m")
	cmd.Env = append(os.Environ(), "EH_CONN="+conn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(60 * time.Second)
	incident := false
	for !incident && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		data, _ := os.ReadFile(out)
		incident = bytes.Contains(data, []byte(`"kind":"incident"`))
	}
	if !incident {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no incident in 60 s; stderr:\n%s", stderr.String())
	}
	for _, p := range []string{"/readyz", "/metrics"} {
		resp, err := http.Get("http://" + listen + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, resp, err)
		} else {
			resp.Body.Close()
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr:\n%s", err, stderr.String())
	}
	logs := stderr.String()
	if strings.Contains(logs, key) || strings.Contains(logs, "SharedAccessKey=") {
		t.Errorf("the connection string is in the log:\n%s", logs)
	}
	var stopped bool
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var l struct{ Msg string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("not a JSON log line: %s", sc.Text())
		}
		stopped = stopped || l.Msg == "stopped"
	}
	if !stopped {
		t.Errorf("no clean stop logged:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(state, "main.checkpoint")); err != nil {
		t.Errorf("no checkpoint after SIGTERM: %v", err)
	}
	t.Logf("stderr: %s", firstLines(logs, 4))
}

// demoLines are the demo's diagnostic-export records, oldest first.
func demoLines(t *testing.T) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	err := fs.WalkDir(examples.FS, path.Join(examples.Root, "activity/diagnostic-export"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.FS, p)
		for _, l := range bytes.Split(data, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) > 0 {
				out = append(out, json.RawMessage(l))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(r json.RawMessage) string {
		var v struct{ Time string }
		json.Unmarshal(r, &v)
		return v.Time
	}
	sort.SliceStable(out, func(i, j int) bool { return at(out[i]) < at(out[j]) })
	return out
}

// selfSigned makes a certificate for 127.0.0.1 and writes it as a CA file.
func selfSigned(t *testing.T, dir string) (tls.Certificate, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, ca
}
