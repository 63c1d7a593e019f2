package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bulwarkhq/bulwark/internal/activity"
)

// ingest is the repartition stage: it consumes the source topic (group k.Group) and re-publishes
// each record's events, grouped by their key (RekeyKey), as {"records":[…]} documents keyed so
// to k.Rekey, through franz-go's idempotent producer; a batch's offsets are committed once every
// record of it is acknowledged (at least once: a crash in between publishes the batch again,
// and the correlating stage drops the repeated events as duplicates, by their key hash).
func ingest(ctx context.Context, o Options, k Kafka) error {
	opts := append([]kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.ConsumerGroup(k.Group), kgo.ConsumeTopics(k.Topic),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(), kgo.ConsumeResetOffset(k.Start), kgo.DefaultProduceTopic(k.Rekey)}, k.Client...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	defer cl.Close()
	rd := &activity.Reader{Limits: o.Limits, Workers: 1}
	o.Log.Info("rekeying", "from", k.Topic, "to", k.Rekey, "by", rekeyBy(k.RekeyBy), "group", k.Group)
	for {
		fetches := cl.PollRecords(ctx, k.MaxPoll)
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				o.Log.Warn("fetch error", "topic", t, "partition", p, "error", err)
			}
		})
		var out []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) {
			out = append(out, rekey(ctx, o, k, rd, r)...)
		})
		if len(out) > 0 {
			if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
				cl.AllowRebalance()
				if ctx.Err() != nil {
					return nil // shutting down: the batch is consumed again on restart
				}
				return fmt.Errorf("kafka topic %s: %w", k.Rekey, err)
			}
			o.Metrics.rekey(len(out))
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			o.Log.Warn("commit failed", "topic", k.Topic, "error", err)
		}
		cl.AllowRebalance()
	}
}

func rekeyBy(s string) string {
	if s == "" {
		return "subscription"
	}
	return s
}

// SourceHeader names, on a rekeyed record, the source partition it came from: the correlating
// stage merges a rekey partition's records per source partition on event time, as it would the
// source partitions themselves (each is in order; their interleaving is the ingest stages').
const SourceHeader = "bulwark-source"

// rekey splits one source record into documents of the events of one key each.
func rekey(ctx context.Context, o Options, k Kafka, rd *activity.Reader, r *kgo.Record) []*kgo.Record {
	where := fmt.Sprintf("%s@%d", streamName(r.Topic, r.Partition), r.Offset)
	var env struct {
		Records []json.RawMessage `json:"records"`
	}
	raws := []json.RawMessage{r.Value}
	if err := json.Unmarshal(r.Value, &env); err != nil {
		o.Log.Warn("malformed record", "stream", streamName(r.Topic, r.Partition), "position", r.Offset, "first", err.Error())
		o.Metrics.malformed(streamName(r.Topic, r.Partition), 1)
		return nil
	} else if env.Records != nil {
		raws = env.Records
	}
	groups := map[string][]json.RawMessage{}
	var keys []string
	for i, raw := range raws {
		key, ok, dups := "", false, rd.Duplicates
		rd.ReadFrom(ctx, fmt.Sprintf("%s[%d]", where, i), bytes.NewReader(raw), func(e *activity.Event) error {
			key, ok = KeyOf(e, k.RekeyBy), true
			return nil
		})
		if !ok && rd.Duplicates > dups {
			continue // an event this stage has just published
		}
		if !ok {
			o.Log.Warn("malformed record", "stream", streamName(r.Topic, r.Partition), "position", r.Offset, "record", i)
			o.Metrics.malformed(streamName(r.Topic, r.Partition), 1)
			continue
		}
		if _, seen := groups[key]; !seen {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], raw)
	}
	out := make([]*kgo.Record, 0, len(keys))
	for _, key := range keys {
		doc, _ := json.Marshal(struct {
			Records []json.RawMessage `json:"records"`
		}{groups[key]})
		out = append(out, &kgo.Record{Key: []byte(key), Value: doc, Headers: []kgo.RecordHeader{{Key: SourceHeader, Value: []byte(streamName(r.Topic, r.Partition))}}})
	}
	return out
}

// KeyOf is what the ingest stage keys an event by: its subscription (the default: an attack in a
// subscription — the caller and every principal it grants a role — stays on one partition), or
// its caller (spreads one subscription's load, but a principal granted a role by another is
// correlated apart from its grantor).
func KeyOf(e *activity.Event, by string) string {
	if by == "caller" {
		if e.PrincipalID != "" {
			return strings.ToLower(strings.ReplaceAll(e.PrincipalID, "-", ""))
		}
		return strings.ToLower(e.Caller)
	}
	id := strings.ToLower(e.ResourceID)
	if rest, ok := strings.CutPrefix(id, "/subscriptions/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		return rest
	}
	return "" // tenant-level: management groups, the tenant root
}
