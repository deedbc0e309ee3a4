package compat

// franz-go's kgo: idempotent producing with every codec, consuming from every kind of start offset,
// consumer groups with the classic protocol and with KIP-848's consumer protocol, commits.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kgoClient is a kgo client of tg, closed when the test ends.
func kgoClient(t *testing.T, tg *target, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(tg.bootstrap),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.RetryTimeout(10 * time.Second),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// admin is a kadm client of tg on a kgo client of its own.
func admin(t *testing.T, tg *target) *kadm.Client {
	return kadm.NewClient(kgoClient(t, tg))
}

// createTopic creates topic (replication factor 1) and waits until metadata shows it, or fails the test.
func createTopic(t *testing.T, ctx context.Context, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	if _, err := adm.CreateTopic(ctx, partitions, 1, configs, topic); err != nil {
		t.Fatalf("creating %s: %v", topic, err)
	}
	waitForTopic(t, ctx, adm, topic, int(partitions))
}

// waitForTopic waits until metadata shows topic with its partitions led: Kafka's brokers learn of a new
// topic a little after CreateTopics answers, and some clients (sarama, kafka-go) give up on an
// unknown topic sooner than others.
func waitForTopic(t *testing.T, ctx context.Context, adm *kadm.Client, topic string, partitions int) {
	t.Helper()
	err := waitFor(ctx, func() error {
		topics, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return err
		}
		d := topics[topic]
		if d.Err != nil {
			return d.Err
		}
		if len(d.Partitions) != partitions {
			return fmt.Errorf("%s has %d partitions in metadata, want %d", topic, len(d.Partitions), partitions)
		}
		for _, p := range d.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return fmt.Errorf("%s/%d: leader %d, %v", topic, p.Partition, p.Leader, p.Err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("waiting for %s in metadata: %v", topic, err)
	}
}

// brokerOf is tg's broker 1 (both brokers under test are node 1), for requests that must reach the
// broker as they are, not be split up or answered by the client (kgo answers for partitions it does
// not know).
func brokerOf(t *testing.T, ctx context.Context, tg *target) *kgo.Broker {
	t.Helper()
	cl := kgoClient(t, tg)
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		t.Fatalf("metadata: %v", err)
	}
	return cl.Broker(1)
}

// produceSync produces records and fails the test unless all are written.
func produceSync(t *testing.T, ctx context.Context, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(recs), err)
	}
}

// pollRecords polls until it has n records (or ctx ends: then it returns what it has and ctx's error).
func pollRecords(ctx context.Context, cl *kgo.Client, n int) ([]*kgo.Record, error) {
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return recs, err
		}
		for _, e := range fs.Errors() {
			return recs, fmt.Errorf("fetching %s/%d: %w", e.Topic, e.Partition, e.Err)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs, nil
}

// recordFact is what must read the same of a consumed record on both brokers.
func recordFact(r *kgo.Record) string {
	var headers []string
	for _, h := range r.Headers {
		headers = append(headers, h.Key+"="+string(h.Value))
	}
	value := string(r.Value)
	if len(value) > 24 {
		value = fmt.Sprintf("%s...(%d bytes)", value[:24], len(r.Value))
	}
	return fmt.Sprintf("p%d@%d key=%q value=%q headers=%v ts=base%+d tstype=%d compression=%d producer-epoch=%d leader-epoch=%d",
		r.Partition, r.Offset, r.Key, value, headers, r.Timestamp.UnixMilli()-baseTimestamp,
		r.Attrs.TimestampType(), r.Attrs.CompressionType(), r.ProducerEpoch, r.LeaderEpoch)
}

func sortRecords(recs []*kgo.Record) {
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
}

var codecs = []struct {
	name  string
	codec kgo.CompressionCodec
}{
	{"none", kgo.NoCompression()},
	{"gzip", kgo.GzipCompression()},
	{"snappy", kgo.SnappyCompression()},
	{"lz4", kgo.Lz4Compression()},
	{"zstd", kgo.ZstdCompression()},
}

// An idempotent producer (kgo's default) per codec, each writing two batches of keyed records with
// headers and explicit timestamps to its own partition; then everything is read back.
func TestKgoIdempotentProduceEveryCodec(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic := name("kgo-codecs")
		createTopic(t, ctx, admin(t, tg), topic, int32(len(codecs)), nil)

		total := 0
		for p, c := range codecs {
			cl := kgoClient(t, tg, kgo.ProducerBatchCompression(c.codec), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			producerID := int64(-1)
			for batch := range 2 {
				var recs []*kgo.Record
				for i := range 10 {
					n := batch*10 + i
					recs = append(recs, &kgo.Record{
						Topic: topic, Partition: int32(p),
						Key:       []byte(fmt.Sprintf("%s-%d", c.name, n)),
						Value:     []byte(strings.Repeat(fmt.Sprintf("%s record %d; ", c.name, n), 20)),
						Headers:   []kgo.RecordHeader{{Key: "codec", Value: []byte(c.name)}, {Key: "n", Value: []byte(fmt.Sprint(n))}},
						Timestamp: time.UnixMilli(baseTimestamp + int64(n)),
					})
				}
				for _, r := range cl.ProduceSync(ctx, recs...) {
					f.add("%s produced %s: p%d@%d producer-epoch=%d", c.name, errName(r.Err), r.Record.Partition, r.Record.Offset, r.Record.ProducerEpoch)
					if r.Err == nil {
						total++
						if producerID == -1 {
							producerID = r.Record.ProducerID
						}
						if r.Record.ProducerID < 0 || r.Record.ProducerID != producerID {
							t.Errorf("%s: record written with producer id %d, the producer's first was %d", c.name, r.Record.ProducerID, producerID)
						}
					}
				}
			}
		}

		partitions := map[int32]kgo.Offset{}
		for p := range codecs {
			partitions[int32(p)] = kgo.NewOffset().AtStart()
		}
		cl := kgoClient(t, tg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: partitions}))
		recs, err := pollRecords(ctx, cl, total)
		if err != nil {
			t.Errorf("consumed %d of %d records: %v", len(recs), total, err)
		}
		sortRecords(recs)
		for _, r := range recs {
			f.add("consumed %s", recordFact(r))
		}
	})
}

// Consumers starting at every kind of offset: the start, an exact offset, the end relative, a
// timestamp, past the end (reset to the start), and one that fetches a byte at a time.
func TestKgoConsumeStartOffsets(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic := name("kgo-offsets")
		createTopic(t, ctx, admin(t, tg), topic, 1, nil)
		producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic))
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprint("v", i)), Timestamp: time.UnixMilli(baseTimestamp + int64(i)*10)})
		}
		produceSync(t, ctx, producer, recs[:4]...)
		produceSync(t, ctx, producer, recs[4:]...)

		cases := []struct {
			what   string
			offset kgo.Offset
			opts   []kgo.Opt
		}{
			{"at start", kgo.NewOffset().AtStart(), nil},
			{"at 6", kgo.NewOffset().At(6), nil},
			{"at end -3", kgo.NewOffset().AtEnd().Relative(-3), nil},
			{"after base+35ms", kgo.NewOffset().AfterMilli(baseTimestamp + 35), nil},
			{"at 100, reset to start", kgo.NewOffset().At(100), []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}},
			{"at 2, one byte per fetch", kgo.NewOffset().At(2), []kgo.Opt{kgo.FetchMaxBytes(1), kgo.FetchMaxPartitionBytes(1)}},
		}
		for _, c := range cases {
			opts := append([]kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: c.offset}})}, c.opts...)
			cl := kgoClient(t, tg, opts...)
			// Every case reads up to the last record (offset 9).
			var got []string
			for last := int64(-1); last < 9; {
				fs := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Errorf("%s: only got %v before the deadline", c.what, got)
					break
				}
				for _, e := range fs.Errors() {
					f.add("%s: fetch error %s", c.what, errName(e.Err))
				}
				fs.EachRecord(func(r *kgo.Record) {
					got = append(got, fmt.Sprintf("%d(%s)", r.Offset, r.Value))
					last = r.Offset
				})
			}
			f.add("%s: %s", c.what, strings.Join(got, " "))
			cl.Close()
		}
	})
}

// member is one kgo group member: it polls all the time, remembers what it consumed and which
// partitions it owns now (from the assignment callbacks).
type member struct {
	name     string
	cl       *kgo.Client
	mu       sync.Mutex
	owned    map[int32]bool
	consumed []*kgo.Record
	done     chan struct{}
}

func startMember(t *testing.T, ctx context.Context, tg *target, name, group, topic string, extra ...kgo.Opt) *member {
	m := &member{name: name, owned: map[int32]bool{}, done: make(chan struct{})}
	update := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps[topic] {
				if add {
					m.owned[p] = true
				} else {
					delete(m.owned, p)
				}
			}
		}
	}
	opts := append([]kgo.Opt{
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.HeartbeatInterval(200 * time.Millisecond), kgo.SessionTimeout(10 * time.Second),
		kgo.ClientID("go-compat-" + name),
		kgo.OnPartitionsAssigned(update(true)), kgo.OnPartitionsRevoked(update(false)), kgo.OnPartitionsLost(update(false)),
	}, extra...)
	m.cl = kgoClient(t, tg, opts...)
	go func() {
		defer close(m.done)
		for {
			fs := m.cl.PollFetches(ctx)
			if fs.IsClientClosed() || ctx.Err() != nil {
				return
			}
			m.mu.Lock()
			m.consumed = append(m.consumed, fs.Records()...)
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *member) ownedPartitions() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.owned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (m *member) consumedCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.consumed)
}

// leave commits what the member consumed and closes it (it leaves the group).
func (m *member) leave(t *testing.T, ctx context.Context) {
	if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Errorf("%s: committing before leaving: %v", m.name, err)
	}
	m.cl.Close()
	<-m.done
}

// waitOwned waits until the members own want[i] partitions each, all of them together.
func waitOwned(t *testing.T, ctx context.Context, partitions int, members []*member, want ...int) {
	t.Helper()
	err := waitFor(ctx, func() error {
		all := map[int32]bool{}
		var counts []int
		for _, m := range members {
			ps := m.ownedPartitions()
			counts = append(counts, len(ps))
			for _, p := range ps {
				all[p] = true
			}
		}
		if !slices.Equal(counts, want) || len(all) != partitions {
			return fmt.Errorf("members own %v partitions (%d distinct), want %v", counts, len(all), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// groupScenario: member a joins, consumes and commits; b joins and they share the partitions; both
// consume more; b leaves and a takes everything back; a leaves and the group is empty. kip848 picks
// the consumer protocol (ConsumerGroupHeartbeat, server-side "uniform" assignor), otherwise the classic
// protocol with kgo's default cooperative-sticky balancer.
func groupScenario(t *testing.T, tg *target, f *facts, what string, kip848 bool) {
	ctx := scenarioContext(t)
	topic, group := name(what), name(what)
	adm := admin(t, tg)
	createTopic(t, ctx, adm, topic, 4, nil)
	producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce := func(perPartition int) {
		var recs []*kgo.Record
		for p := range int32(4) {
			for i := range perPartition {
				recs = append(recs, &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("p%d-%d", p, i))})
			}
		}
		produceSync(t, ctx, producer, recs...)
	}
	var extra []kgo.Opt
	if kip848 {
		extra = append(extra, kgo.ServerSideBalancer(), kgo.Balancers(kgo.StickyBalancer()))
	}
	describe := func(when string) {
		if kip848 {
			described, err := adm.DescribeConsumerGroups(ctx, group)
			if err != nil {
				f.add("%s: ConsumerGroupDescribe failed: %s", when, errName(err))
				return
			}
			d := described[group]
			var sizes []int
			for _, m := range d.Members {
				sizes = append(sizes, len(m.Assignment[topic]))
			}
			slices.Sort(sizes)
			f.add("%s: ConsumerGroupDescribe %s state=%s assignor=%s members=%d assignment sizes=%v",
				when, errName(d.Err), d.State, d.AssignorName, len(d.Members), sizes)
		}
		// DescribeGroups answers for consumer-protocol groups too (in classic terms).
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			f.add("%s: DescribeGroups failed: %s", when, errName(err))
			return
		}
		d := described[group]
		var sizes []int
		for _, m := range d.Members {
			if a, ok := m.Assigned.AsConsumer(); ok {
				n := 0
				for _, at := range a.Topics {
					n += len(at.Partitions)
				}
				sizes = append(sizes, n)
			}
		}
		slices.Sort(sizes)
		f.add("%s: DescribeGroups %s state=%s protocol-type=%s protocol=%s members=%d assignment sizes=%v",
			when, errName(d.Err), d.State, d.ProtocolType, d.Protocol, len(d.Members), sizes)
	}
	committed := func(when string) {
		offsets, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			f.add("%s: OffsetFetch failed: %s", when, errName(err))
			return
		}
		for _, o := range offsets.Sorted() {
			// (kgo commits its member id as the metadata: not compared)
			f.add("%s: committed p%d@%d leader-epoch=%d %s", when, o.Partition, o.At, o.LeaderEpoch, errName(o.Err))
		}
	}
	waitConsumed := func(members []*member, n int) {
		err := waitFor(ctx, func() error {
			got := 0
			for _, m := range members {
				got += m.consumedCount()
			}
			if got != n {
				return fmt.Errorf("consumed %d records, want %d", got, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	produce(10)
	a := startMember(t, ctx, tg, "a", group, topic, extra...)
	waitOwned(t, ctx, 4, []*member{a}, 4)
	waitConsumed([]*member{a}, 40)
	if err := a.cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("a: commit: %v", err)
	}
	f.add("a alone owns %v", a.ownedPartitions())
	describe("a alone")
	committed("a alone")

	b := startMember(t, ctx, tg, "b", group, topic, extra...)
	waitOwned(t, ctx, 4, []*member{a, b}, 2, 2)
	describe("a and b")
	produce(2)
	waitConsumed([]*member{a, b}, 48)
	f.add("a and b consumed %d and %d of the 8 new records", a.consumedCount()-40, b.consumedCount())
	if err := a.cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Errorf("a: commit: %v", err)
	}

	b.leave(t, ctx)
	waitOwned(t, ctx, 4, []*member{a}, 4)
	describe("b left")
	committed("b left")

	a.leave(t, ctx)
	err := waitFor(ctx, func() error {
		state := ""
		if kip848 {
			described, err := adm.DescribeConsumerGroups(ctx, group)
			if err != nil {
				return err
			}
			state = described[group].State
		} else {
			described, err := adm.DescribeGroups(ctx, group)
			if err != nil {
				return err
			}
			state = described[group].State
		}
		if state != "Empty" {
			return fmt.Errorf("group state %s", state)
		}
		return nil
	})
	if err != nil {
		t.Errorf("the group did not become Empty after both left: %v", err)
	}
	describe("both left")
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		f.add("ListGroups failed: %s", errName(err))
	} else if g, ok := listed[group]; ok {
		f.add("ListGroups: state=%s protocol-type=%s group-type=%s", g.State, g.ProtocolType, g.GroupType)
	} else {
		f.add("ListGroups: the group is missing")
	}
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		f.add("Lag failed: %s", errName(err))
	} else {
		l := lags[group]
		f.add("Lag: %s state=%s", errName(l.Error()), l.State)
		for _, ml := range l.Lag.Sorted() {
			f.add("lag p%d: commit=%d end=%d lag=%d %s", ml.Partition, ml.Commit.At, ml.End.Offset, ml.Lag, errName(ml.Err))
		}
	}
}

func TestKgoGroupClassic(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) { groupScenario(t, tg, f, "kgo-group-classic", false) })
}

func TestKgoGroupConsumerProtocol(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) { groupScenario(t, tg, f, "kgo-group-848", true) })
}

// Offset commits checked against group membership: with the classic protocol a member's generation,
// with the consumer protocol (KIP-848) its member epoch; raw OffsetCommit requests carrying the
// member's own, a newer and an older generation or epoch, and an unknown member.
func TestKgoCommitFencing(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		for _, kip848 := range []bool{false, true} {
			what := "classic"
			var extra []kgo.Opt
			if kip848 {
				what = "consumer"
				extra = append(extra, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
			}
			topic, group := name("kgo-fencing-"+what), name("kgo-fencing-"+what)
			createTopic(t, ctx, adm, topic, 2, nil)
			details, err := adm.ListTopics(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			topicID := details[topic].ID
			m := startMember(t, ctx, tg, what, group, topic, extra...)
			waitOwned(t, ctx, 2, []*member{m}, 2)
			memberID, generation := m.cl.GroupMetadata()
			commit := func(label, member string, gen int32) {
				req := kmsg.NewPtrOffsetCommitRequest()
				req.Group, req.MemberID, req.Generation = group, member, gen
				rt := kmsg.NewOffsetCommitRequestTopic()
				rt.Topic, rt.TopicID = topic, topicID // by name up to v9, by id from v10
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch = 0, 0, -1
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				resp, err := req.RequestWith(ctx, m.cl)
				if err != nil {
					f.add("%s, %s: request failed: %s", what, label, errName(err))
					return
				}
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						f.add("%s, %s: p%d %s", what, label, p.Partition, codeName(p.ErrorCode))
					}
				}
			}
			commit("the member's own generation", memberID, generation)
			commit("a newer generation", memberID, generation+1)
			commit("an older generation", memberID, generation-1)
			commit("an unknown member", "no-such-member", generation)
			m.leave(t, ctx)
		}
	})
}
