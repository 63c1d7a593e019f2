package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka is where and how watch consumes: Event Hubs' Kafka endpoint or any Kafka.
type Kafka struct {
	Brokers []string
	Topic   string
	Group   string
	// Client are the connection options (TLS, SASL) for every client watch makes.
	Client []kgo.Opt
	// Start is where a partition without a committed offset or checkpoint starts: kgo's
	// NewOffset().AtStart() (earliest), AtEnd() (latest) or AfterMilli(t).
	Start kgo.Offset
	// Rekey, when set, is the repartition topic: the ingest stage (group Group) re-publishes each
	// source record's events keyed by RekeyBy to it, and the correlating stage (group
	// Group+"-correlate") consumes it with one engine per partition, so that all of a key's events
	// meet on one instance.
	Rekey   string
	RekeyBy string // "subscription" (default) or "caller"
	// Tick is how often the engines report and checkpoint (default 10 s).
	Tick time.Duration
	// MaxPoll bounds the records taken per poll (default 10,000).
	MaxPoll int
}

// streamName names a partition as a stream.
func streamName(topic string, p int32) string { return topic + "/" + strconv.Itoa(int(p)) }

func partitionOf(stream string) (string, int32, bool) {
	i := strings.LastIndexByte(stream, '/')
	if i < 0 {
		return "", 0, false
	}
	p, err := strconv.Atoi(stream[i+1:])
	return stream[:i], int32(p), err == nil
}

// Run consumes until ctx is cancelled, then stops consuming, drains, checkpoints, commits and
// returns nil: a clean shutdown. Any other return is an error that stopped it.
func Run(ctx context.Context, o Options, k Kafka) error {
	o.defaults()
	if k.Tick <= 0 {
		k.Tick = 10 * time.Second
	}
	if k.MaxPoll <= 0 {
		k.MaxPoll = 10_000
	}
	if k.Rekey == "" {
		return consume(ctx, o, k, k.Topic, k.Group, false)
	}
	errc := make(chan error, 2)
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); errc <- ingest(ictx, o, k) }()
	go func() { defer wg.Done(); errc <- consume(ictx, o, k, k.Rekey, k.Group+"-correlate", true) }()
	err := <-errc
	cancel()
	wg.Wait()
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// consumer is one consumer group member over topic: one engine for all its partitions, or (per
// partition) one engine each, named after the partition, whose checkpoint a new owner loads.
type consumer struct {
	o            Options
	k            Kafka
	topic        string
	perPartition bool
	cl           *kgo.Client
	mu           sync.Mutex // engines, between the poll loop and the rebalance callbacks (which BlockRebalanceOnPoll serialises)
	engines      map[int32]*Engine
	one          *Engine
	err          error // the first error of a callback
	closing      bool  // shut down: the revoke of leaving the group only lets go
}

func (c *consumer) engine(p int32) *Engine {
	if c.one != nil {
		return c.one
	}
	return c.engines[p]
}

func consume(ctx context.Context, o Options, k Kafka, topic, group string, perPartition bool) error {
	c := &consumer{o: o, k: k, topic: topic, perPartition: perPartition, engines: map[int32]*Engine{}}
	if !perPartition {
		e, err := Open(ctx, o, "main")
		if err != nil {
			return err
		}
		c.one = e
		defer e.Close()
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(), kgo.ConsumeResetOffset(k.Start),
		kgo.OnPartitionsAssigned(c.assigned), kgo.OnPartitionsRevoked(c.revoked), kgo.OnPartitionsLost(c.lost),
		kgo.AdjustFetchOffsetsFn(c.adjust)}, k.Client...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	c.cl = cl
	defer func() {
		cl.Close() // leaves the group: its revoke only lets go (closing)
		for _, e := range c.engines {
			e.Close()
		}
	}()
	o.Log.Info("consuming", "topic", topic, "group", group, "brokers", strings.Join(k.Brokers, ","), "perPartition", perPartition)
	next := time.Now().Add(k.Tick)
	for {
		pctx, cancel := context.WithDeadline(ctx, next)
		fetches := cl.PollRecords(pctx, k.MaxPoll)
		cancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			break
		}
		var fatal error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			o.Log.Warn("fetch error", "topic", t, "partition", p, "error", err)
			if errors.Is(err, kgo.ErrClientClosed) {
				fatal = err
			}
		})
		if fatal != nil {
			return fatal
		}
		c.mu.Lock()
		err := c.take(ctx, fetches)
		if err == nil && !time.Now().Before(next) {
			err = c.tick(ctx, nil)
			next = time.Now().Add(k.Tick)
		}
		if err == nil {
			err = c.err
		}
		if err != nil {
			c.closing = true // a crash or a failure: leaving the group must not checkpoint again
		}
		c.mu.Unlock()
		cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
	// Shutdown: stop consuming, report and checkpoint what was processed, commit, leave.
	c.mu.Lock()
	defer c.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := c.tick(sctx, nil); err != nil {
		return err
	}
	c.closing = true
	o.Log.Info("stopped", "topic", topic)
	return nil
}

// take hands the fetched records to their engines and drains them.
func (c *consumer) take(ctx context.Context, fetches kgo.Fetches) error {
	var err error
	touched := map[*Engine]bool{}
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		e := c.engine(p.Partition)
		if e == nil || err != nil || len(p.Records) == 0 {
			return
		}
		name := streamName(p.Topic, p.Partition)
		for _, r := range p.Records {
			stream := name
			if c.perPartition {
				stream = name + "<" + sourceOf(r) // a sub-stream: see Engine.Resume
			}
			if err = e.Add(ctx, stream, r.Offset, r.Offset+1, r.Value); err != nil {
				return
			}
			if c.o.crashes("mid-batch") {
				err = errCrash
				return
			}
		}
		last := p.Records[len(p.Records)-1].Offset
		lag := p.HighWatermark - (last + 1)
		if c.perPartition {
			e.BehindAll(lag > 0)
		} else {
			e.Behind(name, lag > 0)
		}
		c.o.Metrics.Lag(name, lag)
		touched[e] = true
	})
	if err != nil {
		return err
	}
	for e := range touched {
		before := e.counts.Events
		e.Drain()
		c.o.Metrics.processed(c.topic, e.counts.Events-before)
	}
	if c.o.crashes("drained") {
		return errCrash
	}
	return nil
}

// tick reports and checkpoints the engines (of only partitions, when given), then commits the
// positions their checkpoints cover.
func (c *consumer) tick(ctx context.Context, only []int32) error {
	var engines []*Engine
	if c.one != nil {
		engines = []*Engine{c.one}
	} else if only != nil {
		for _, p := range only {
			if e := c.engines[p]; e != nil {
				engines = append(engines, e)
			}
		}
	} else {
		for _, e := range c.engines {
			engines = append(engines, e)
		}
	}
	offsets := map[int32]kgo.EpochOffset{}
	for _, e := range engines {
		if err := e.Tick(ctx); err != nil {
			return err
		}
		c.o.Metrics.held(e.name, e.d.Held())
		if c.perPartition {
			if _, p, ok := partitionOf(e.name); ok && e.Resume() >= 0 {
				offsets[p] = kgo.EpochOffset{Epoch: -1, Offset: e.Resume()}
			}
			continue
		}
		for s, pos := range e.Positions() {
			if t, p, ok := partitionOf(s); ok && t == c.topic && pos >= 0 {
				offsets[p] = kgo.EpochOffset{Epoch: -1, Offset: pos}
			}
		}
	}
	if c.o.crashes("before-commit") {
		return errCrash
	}
	if len(offsets) == 0 {
		return nil
	}
	commit := map[string]map[int32]kgo.EpochOffset{c.topic: offsets}
	var cerr error
	c.cl.CommitOffsetsSync(ctx, commit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && cerr == nil {
					cerr = fmt.Errorf("partition %d: %w", p.Partition, e)
				}
			}
		}
	})
	if cerr != nil {
		// Not fatal: the checkpoint holds the positions, and a restart reads from them.
		c.o.Log.Warn("commit failed", "topic", c.topic, "error", cerr)
	}
	return nil
}

func (c *consumer) assigned(ctx context.Context, _ *kgo.Client, as map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range as[c.topic] {
		if !c.perPartition {
			continue
		}
		if _, ok := c.engines[p]; ok {
			continue
		}
		e, err := Open(ctx, c.o, fmt.Sprintf("%s/%d", c.topic, p))
		if err != nil {
			if c.err == nil {
				c.err = err
			}
			continue
		}
		c.engines[p] = e
	}
	c.o.Log.Info("partitions assigned", "topic", c.topic, "partitions", fmt.Sprint(as[c.topic]))
	c.o.Metrics.SetReady(true)
}

// adjust starts each assigned partition at its checkpoint's position when there is one: the
// checkpoint, not the group's commit, says what the state covers.
func (c *consumer) adjust(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range offsets[c.topic] {
		e := c.engine(p)
		if e == nil {
			continue
		}
		pos, ok := e.Position(streamName(c.topic, p))
		if c.perPartition {
			pos = e.Resume()
			ok = pos >= 0
		}
		if ok && pos >= 0 {
			offsets[c.topic][p] = kgo.NewOffset().At(pos).WithEpoch(-1)
		}
	}
	return offsets, nil
}

func (c *consumer) revoked(ctx context.Context, _ *kgo.Client, rs map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := rs[c.topic]
	if len(ps) == 0 || c.closing {
		return
	}
	if err := c.tick(ctx, ps); err != nil && c.err == nil {
		c.err = err
	}
	c.let(ps)
	c.o.Log.Info("partitions revoked", "topic", c.topic, "partitions", fmt.Sprint(ps))
}

func (c *consumer) lost(_ context.Context, _ *kgo.Client, ls map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// No commit is possible: the checkpoints already written are what a new owner resumes from.
	c.let(ls[c.topic])
	c.o.Log.Warn("partitions lost", "topic", c.topic, "partitions", fmt.Sprint(ls[c.topic]))
}

// let lets partitions go: their engines (per partition) closed, or their streams dropped.
func (c *consumer) let(ps []int32) {
	for _, p := range ps {
		if c.one != nil {
			c.one.Drop(streamName(c.topic, p))
			continue
		}
		if e := c.engines[p]; e != nil {
			e.Close()
			delete(c.engines, p)
		}
	}
}

// sourceOf is the source partition a rekeyed record came from.
func sourceOf(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == SourceHeader {
			return string(h.Value)
		}
	}
	return ""
}
