package sink

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka produces each record to a topic: the key is the record's Key, else its ID (so a topic
// compacted by key keeps an incident's latest revision, and a consumer can deduplicate), the value its JSON, headers bulwark-kind its
// kind and bulwark-delivery its ID. The client is franz-go's, idempotent (its default), so a retried produce is written once.
// The caller builds the client with the brokers, TLS and SASL it needs (Event Hubs: SASL PLAIN,
// user $ConnectionString) and closes it.
type Kafka struct {
	Client *kgo.Client
	Topic  string
}

// Deliver implements Sink: it returns once the broker has acknowledged the record.
func (k *Kafka) Deliver(ctx context.Context, r Record) error {
	key := r.Key
	if key == "" {
		key = r.ID
	}
	rec := &kgo.Record{Topic: k.Topic, Key: []byte(key), Value: r.JSON, Headers: []kgo.RecordHeader{{Key: "bulwark-kind", Value: []byte(r.Kind)}, {Key: "bulwark-delivery", Value: []byte(r.ID)}}}
	if err := k.Client.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("kafka topic %s: %s not delivered: %w", k.Topic, r.ID, err)
	}
	return nil
}

// Close implements Sink: the client is the caller's to close.
func (k *Kafka) Close() error { return nil }
