package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/bulwarkhq/bulwark/internal/sink"
	"github.com/bulwarkhq/bulwark/internal/watch"
)

type watchOptions struct {
	detectOptions
	brokers         []string
	topic, group    string
	connStringEnv   string // Event Hubs
	saslMechanism   string
	saslUser        string
	saslPasswordEnv string
	tls             bool
	tlsCA           string
	from            string
	state           string
	rekeyTopic      string
	rekeyBy         string
	interval        time.Duration
	listen          string
	logFormat       string
	out             string
	webhook         string
	webhookSecret   string // env var name
	deadLetter      string
	kafkaOut        string
	dir             string
}

// NewCmdWatch builds `bulwark watch`.
func NewCmdWatch(app *App, runF func(*watchOptions) error) *cobra.Command {
	var opts watchOptions
	cmd := &cobra.Command{
		Use:   "watch (--brokers HOST:PORT | --sasl-connection-string-env NAME | --dir PATH) --state DIR [flags]",
		Short: "Detect destructive attacks continuously on the Activity Log stream (Event Hubs or Kafka)",
		Long: `Consume the Azure Activity Log as a subscription's diagnostic setting streams it to an Event Hub
(through its Kafka endpoint: Standard tier and above), or from any Kafka topic, and run the same
detection as bulwark detect on event time: the built-in rule pack plus any --rules, the incident
policy, bulwark.yaml's thresholds and suppressions.

Alerts and incidents are delivered as JSON lines (schema bulwark.detect/v1, with "revision" and
"final") to stdout or --out, and to --webhook and --kafka-topic: each as soon as it is raised, again
as it grows, and in its final form once its actor has been quiet for 48 hours of event time.
Delivery is at least once; every record carries an ID to deduplicate by.

State — the detector, each partition's position, what is left to deliver — is checkpointed to
--state every --checkpoint-interval (a temporary file renamed over the last), and offsets are
committed to the consumer group only after the checkpoint that covers them. A restart resumes
from the checkpoint: nothing is lost, and nothing is delivered twice but the one record in flight
when the process died. SIGINT or SIGTERM stops consuming, checkpoints, commits and exits 0.

One instance needs no more. For several, give --rekey-topic: every instance re-publishes the
events by subscription to that topic and correlates the partitions of it the group gives it, so
all of a subscription's events meet on one instance; --state must then be a folder every instance
shares (a new owner of a partition loads its checkpoint). docs/watch.md has the topologies, the
roles and the limits.

With --dir, watch follows the storage export's folder instead (a storage account mounted or synced:
.../resourceId=/SUBSCRIPTIONS/ID/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json): new hourly blobs and the
lines appended to them, one stream per subscription, checkpointed the same way.`,
		Example: `  # Event Hubs: the connection string of a listen-only policy, in an environment variable
  export EH_CONN='Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=bulwark-listen;SharedAccessKey=…;EntityPath=insights-activity-logs'
  bulwark watch --sasl-connection-string-env EH_CONN --state /var/lib/bulwark --listen :9464

  # Any Kafka, three instances sharing /mnt/bulwark, alerts to a webhook
  bulwark watch --brokers kafka-1:9092 --topic activity --rekey-topic activity-by-subscription \
    --state /mnt/bulwark --webhook https://soar.example/hooks/bulwark --webhook-secret-env HOOK_KEY

  # The storage export, mounted
  bulwark watch --dir /mnt/insights-activity-logs --state /var/lib/bulwark --out alerts.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.flagsGiven(cmd)
			if runF != nil {
				return runF(&opts)
			}
			return runWatch(cmd.Context(), app, &opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.brokers, "brokers", nil, "Kafka bootstrap brokers, host:port (Event Hubs: NAMESPACE.servicebus.windows.net:9093, the default with --sasl-connection-string-env)")
	f.StringVar(&opts.topic, "topic", "insights-activity-logs", "topic (event hub) the Activity Log is streamed to")
	f.StringVar(&opts.group, "group", "bulwark", "consumer group (give bulwark a consumer group of its own)")
	f.StringVar(&opts.connStringEnv, "sasl-connection-string-env", "", "Event Hubs: the environment variable holding the namespace or event hub connection string (SASL PLAIN as $ConnectionString, TLS)")
	f.StringVar(&opts.saslMechanism, "sasl-mechanism", "", "other Kafka: plain, scram-sha-256 or scram-sha-512")
	f.StringVar(&opts.saslUser, "sasl-username", "", "other Kafka: the SASL user name")
	f.StringVar(&opts.saslPasswordEnv, "sasl-password-env", "", "other Kafka: the environment variable holding the SASL password")
	f.BoolVar(&opts.tls, "tls", false, "connect with TLS (implied by --sasl-connection-string-env)")
	f.StringVar(&opts.tlsCA, "tls-ca", "", "PEM file of the CA certificates to trust (default: the system's)")
	f.StringVar(&opts.from, "from", "latest", "where a partition with no checkpoint or committed offset starts: earliest, latest, or a time (RFC 3339)")
	f.StringVar(&opts.state, "state", "", "folder for checkpoints (required; shared by every instance with --rekey-topic)")
	f.StringVar(&opts.rekeyTopic, "rekey-topic", "", "repartition through this topic (several instances): events re-published by --rekey-by, correlated per partition")
	f.StringVar(&opts.rekeyBy, "rekey-by", "subscription", "what --rekey-topic keys events by: subscription (an attacker and the principals it grants stay together) or caller")
	f.DurationVar(&opts.interval, "checkpoint-interval", 10*time.Second, "how often to report, checkpoint and commit")
	f.StringVar(&opts.listen, "listen", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, such as :9464")
	f.StringVar(&opts.logFormat, "log-format", "text", "log lines on stderr: text or json")
	f.StringVar(&opts.out, "out", "-", "JSON lines file to append alerts and incidents to (- for stdout, none for no file)")
	f.StringVar(&opts.webhook, "webhook", "", "also POST each alert and incident as JSON to this URL (retried with back-off)")
	f.StringVar(&opts.webhookSecret, "webhook-secret-env", "", "the environment variable holding the key of the X-Bulwark-Signature HMAC-SHA256 header")
	f.StringVar(&opts.deadLetter, "webhook-dead-letter", "", "JSON lines file for records the webhook refused or never took (default: STATE/webhook-dead-letter.jsonl)")
	f.StringVar(&opts.dir, "dir", "", "follow a storage-export folder instead of Kafka (…/y=/m=/d=/h=/m=00/PT1H.json: new hourly blobs, appended lines)")
	f.StringVar(&opts.kafkaOut, "kafka-topic", "", "also produce each alert and incident to this topic of the same cluster (keyed by its ID)")
	opts.detectorFlags(f)
	cmd.RegisterFlagCompletionFunc("from", cobra.FixedCompletions([]string{"earliest", "latest"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("rekey-by", cobra.FixedCompletions([]string{"subscription", "caller"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("sasl-mechanism", cobra.FixedCompletions([]string{"plain", "scram-sha-256", "scram-sha-512"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// eventHubsEndpoint reads the namespace host from an Event Hubs connection string
// (Endpoint=sb://NAMESPACE.servicebus.windows.net/;…) and the event hub (EntityPath), if any.
func eventHubsEndpoint(conn string) (host, entity string, err error) {
	for _, part := range strings.Split(conn, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(k) {
		case "endpoint":
			v = strings.TrimPrefix(strings.TrimPrefix(v, "sb://"), "amqps://")
			host = strings.TrimSuffix(v, "/")
		case "entitypath":
			entity = v
		}
	}
	if host == "" {
		return "", "", errors.New("it has no Endpoint=sb://NAMESPACE.servicebus.windows.net/")
	}
	return host, entity, nil
}

// kafkaClient are the connection options from the flags; none of them is ever logged.
func (opts *watchOptions) kafkaClient(app *App) ([]kgo.Opt, []string, error) {
	brokers := opts.brokers
	var mech sasl.Mechanism
	useTLS := opts.tls
	if opts.connStringEnv != "" {
		conn := app.Getenv(opts.connStringEnv)
		if conn == "" {
			return nil, nil, usagef("--sasl-connection-string-env: %s is not set or empty", opts.connStringEnv)
		}
		host, entity, err := eventHubsEndpoint(conn)
		if err != nil {
			return nil, nil, usagef("--sasl-connection-string-env: the connection string in %s: %v", opts.connStringEnv, err)
		}
		if entity != "" && entity != opts.topic {
			return nil, nil, usagef("--sasl-connection-string-env: the connection string in %s is for event hub %q, --topic is %q", opts.connStringEnv, entity, opts.topic)
		}
		if len(brokers) == 0 {
			brokers = []string{host + ":9093"}
		}
		mech = plain.Auth{User: "$ConnectionString", Pass: conn}.AsMechanism()
		useTLS = true
	} else if opts.saslMechanism != "" {
		pass := ""
		if opts.saslPasswordEnv != "" {
			if pass = app.Getenv(opts.saslPasswordEnv); pass == "" {
				return nil, nil, usagef("--sasl-password-env: %s is not set or empty", opts.saslPasswordEnv)
			}
		}
		switch strings.ToLower(opts.saslMechanism) {
		case "plain":
			mech = plain.Auth{User: opts.saslUser, Pass: pass}.AsMechanism()
		case "scram-sha-256":
			mech = scram.Auth{User: opts.saslUser, Pass: pass}.AsSha256Mechanism()
		case "scram-sha-512":
			mech = scram.Auth{User: opts.saslUser, Pass: pass}.AsSha512Mechanism()
		default:
			return nil, nil, usagef("--sasl-mechanism: %q is not plain, scram-sha-256 or scram-sha-512", opts.saslMechanism)
		}
	}
	if len(brokers) == 0 {
		return nil, nil, usagef("--brokers: where to consume from (or --sasl-connection-string-env for Event Hubs)")
	}
	var kopts []kgo.Opt
	if mech != nil {
		kopts = append(kopts, kgo.SASL(mech))
	}
	if useTLS || opts.tlsCA != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.tlsCA != "" {
			pem, err := os.ReadFile(opts.tlsCA)
			if err != nil {
				return nil, nil, fmt.Errorf("--tls-ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, nil, usagef("--tls-ca: %s holds no PEM certificate", opts.tlsCA)
			}
		}
		kopts = append(kopts, kgo.DialTLSConfig(cfg))
	}
	return kopts, brokers, nil
}

// startOffset reads --from.
func startOffset(from string) (kgo.Offset, error) {
	switch from {
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "latest", "":
		return kgo.NewOffset().AtEnd(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, from)
	if err != nil {
		return kgo.Offset{}, usagef("--from: %q is not earliest, latest or an RFC 3339 time", from)
	}
	return kgo.NewOffset().AfterMilli(t.UnixMilli()), nil
}

func runWatch(ctx context.Context, app *App, opts *watchOptions) error {
	if opts.state == "" {
		return usagef("--state DIR: where checkpoints go is required (a persistent volume; with --rekey-topic, one every instance shares)")
	}
	if opts.interval <= 0 {
		return usagef("--checkpoint-interval: must be positive")
	}
	if opts.rekeyBy != "subscription" && opts.rekeyBy != "caller" {
		return usagef("--rekey-by: %q is not subscription or caller", opts.rekeyBy)
	}
	var handler slog.Handler
	switch opts.logFormat {
	case "json":
		handler = slog.NewJSONHandler(app.Stderr, nil)
	case "text":
		handler = slog.NewTextHandler(app.Stderr, nil)
	default:
		return usagef("--log-format: %q is not text or json", opts.logFormat)
	}
	start, err := startOffset(opts.from)
	if err != nil {
		return err
	}
	var kopts []kgo.Opt
	var brokers []string
	if opts.dir == "" || opts.kafkaOut != "" {
		if kopts, brokers, err = opts.kafkaClient(app); err != nil {
			return err
		}
	} else if len(opts.brokers) > 0 || opts.rekeyTopic != "" {
		return usagef("--dir follows a folder: --brokers and --rekey-topic are for Kafka")
	}
	if err := os.MkdirAll(opts.state, 0o700); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	dopts, lim, err := opts.detector(ctx, app, time.Now().UTC())
	if err != nil {
		return err
	}
	log := slog.New(handler)

	// Sinks, deduplicated by ID within the process.
	var sinks sink.Multi
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	switch opts.out {
	case "-":
		sinks = append(sinks, sink.NewJSONLines(app.Stdout))
	case "none", "":
	default:
		f, err := appendTo("--out", opts.out, &closers)
		if err != nil {
			return err
		}
		sinks = append(sinks, sink.NewJSONLines(f))
	}
	if opts.webhook != "" {
		w := &sink.Webhook{URL: opts.webhook}
		if opts.webhookSecret != "" {
			key := app.Getenv(opts.webhookSecret)
			if key == "" {
				return usagef("--webhook-secret-env: %s is not set or empty", opts.webhookSecret)
			}
			w.Secret = []byte(key)
		}
		dl := opts.deadLetter
		if dl == "" {
			dl = filepath.Join(opts.state, "webhook-dead-letter.jsonl")
		}
		f, err := appendTo("--webhook-dead-letter", dl, &closers)
		if err != nil {
			return err
		}
		w.DeadLetter = f
		sinks = append(sinks, w)
	}
	if opts.kafkaOut != "" {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, kopts...)...)
		if err != nil {
			return fmt.Errorf("--kafka-topic: %w", err)
		}
		defer cl.Close()
		sinks = append(sinks, &sink.Kafka{Client: cl, Topic: opts.kafkaOut})
	}
	if len(sinks) == 0 {
		return usagef("no output: --out none with no --webhook or --kafka-topic would deliver nothing")
	}

	var metrics *watch.Metrics
	if opts.listen != "" {
		metrics = watch.NewMetrics()
		ln, err := net.Listen("tcp", opts.listen)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		srv := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("serving metrics", "address", ln.Addr().String())
	}
	o := watch.Options{Detect: dopts, Limits: lim, State: opts.state, Sink: &sink.Dedup{Sink: sinks}, Log: log, Metrics: metrics}
	if opts.dir != "" {
		return watch.RunDir(ctx, o, watch.Dir{Path: opts.dir, Tick: opts.interval})
	}
	k := watch.Kafka{Brokers: brokers, Topic: opts.topic, Group: opts.group, Client: kopts, Start: start,
		Rekey: opts.rekeyTopic, RekeyBy: opts.rekeyBy, Tick: opts.interval}
	return watch.Run(ctx, o, k)
}

// appendTo opens a file of JSON lines to append to (created private), to be closed with closers.
func appendTo(flag, path string, closers *[]io.Closer) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	*closers = append(*closers, f)
	return f, nil
}
