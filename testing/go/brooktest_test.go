package brooktest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"brooktest"
)

const timeout = 30 * time.Second

var counter int

func uniqueName(prefix string) string {
	counter++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1_000_000, counter)
}

func client(t *testing.T, b *brooktest.Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.BootstrapServers())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func produce(t *testing.T, c *kgo.Client, topic, value string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
}

func topicExists(t *testing.T, c *kgo.Client, topic string) bool {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0
}

func TestProduceAndConsume(t *testing.T) {
	b := brooktest.Start(t)
	topic := uniqueName("orders")
	b.CreateTopic(topic, 2, nil)
	p := client(t, b)
	for i := 0; i < 5; i++ {
		if err := produce(t, p, topic, fmt.Sprintf("order %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < 5 {
		fetches := c.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of 5 records: %v", len(seen), err)
		}
		fetches.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := 0; i < 5; i++ {
		if !seen[fmt.Sprintf("order %d", i)] {
			t.Errorf("order %d not consumed", i)
		}
	}
}

func TestResetDeletesTopicsAndFaults(t *testing.T) {
	b := brooktest.Start(t)
	b.CreateTopic("left-behind", 1, nil)
	b.InjectError("Fetch", "NOT_LEADER_OR_FOLLOWER", brooktest.Count(100))
	c := client(t, b)
	if !topicExists(t, c, "left-behind") {
		t.Fatal("topic not created")
	}
	b.Reset()
	if topicExists(t, c, "left-behind") {
		t.Error("topic still there after Reset")
	}
	if rules := b.Faults(); len(rules) != 0 {
		t.Errorf("fault rules after Reset: %v", rules)
	}
}

func TestNotLeaderOnProduceIsRetried(t *testing.T) {
	b := brooktest.Start(t)
	topic := uniqueName("retry")
	b.CreateTopic(topic, 1, nil)
	p := client(t, b)
	if err := produce(t, p, topic, "warm-up"); err != nil {
		t.Fatal(err)
	}
	b.InjectError("Produce", "NOT_LEADER_OR_FOLLOWER", brooktest.Count(1), brooktest.Topic(topic))
	before := len(b.Requests("Produce"))
	if err := produce(t, p, topic, "survives a leader change"); err != nil {
		t.Fatalf("not delivered: %v", err)
	}
	if sent := len(b.Requests("Produce")) - before; sent < 2 {
		t.Errorf("%d produce requests: the refused one was not sent again", sent)
	}
}

func TestNotCoordinatorOnOffsetCommitIsRetried(t *testing.T) {
	b := brooktest.Start(t)
	topic, group := uniqueName("commits"), uniqueName("group")
	b.CreateTopic(topic, 1, nil)
	c := client(t, b)
	b.InjectError("OffsetCommit", "NOT_COORDINATOR", brooktest.Count(1), brooktest.Group(group))

	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group = group
	req.Generation = -1
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// OffsetCommit v10 names topics by id (the version franz-go picks with a Kafka 4.4 broker), v9 and
	// older by name: both are set, each version sends its own.
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := mreq.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rt.TopicID = mresp.Topics[0].TopicID
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition = 0
	rp.Offset = 7
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	// franz-go sends group requests to the coordinator and retries on NOT_COORDINATOR.
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("commit answered %v", kerr.ErrorForCode(code))
	}
	if sent := len(b.Requests("OffsetCommit")); sent < 2 {
		t.Errorf("%d OffsetCommit requests: the refused one was not sent again", sent)
	}
}

func TestPausedBrokerTimesTheRequestOut(t *testing.T) {
	b := brooktest.Start(t)
	topic := uniqueName("paused")
	b.CreateTopic(topic, 1, nil)
	p := client(t, b, kgo.DisableIdempotentWrite(), kgo.RecordRetries(0), kgo.RecordDeliveryTimeout(1500*time.Millisecond),
		kgo.ProduceRequestTimeout(time.Second), kgo.RequestTimeoutOverhead(time.Second))
	if err := produce(t, p, topic, "warm-up"); err != nil {
		t.Fatal(err)
	}
	b.Pause()
	err := produce(t, p, topic, "never answered")
	b.Resume()
	if err == nil {
		t.Fatal("delivered while the broker was paused")
	}
	var netErr net.Error
	if !errors.Is(err, kgo.ErrRecordTimeout) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, os.ErrDeadlineExceeded) && !(errors.As(err, &netErr) && netErr.Timeout()) {
		t.Errorf("not a timeout: %v", err)
	}
}

func TestStorageErrorOnAppendIsReported(t *testing.T) {
	b := brooktest.Start(t)
	topic := uniqueName("full-disk")
	b.CreateTopic(topic, 1, nil)
	p := client(t, b, kgo.DisableIdempotentWrite(), kgo.RecordRetries(0))
	if err := produce(t, p, topic, "warm-up"); err != nil {
		t.Fatal(err)
	}
	b.DiskFault("append", "ENOSPC", brooktest.Count(1), brooktest.Topic(topic))
	if err := produce(t, p, topic, "no room"); !errors.Is(err, kerr.KafkaStorageError) {
		t.Errorf("produce on a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
}

func TestOverrideReachesTheBroker(t *testing.T) {
	b := brooktest.Start(t, brooktest.WithOverride("num.partitions", "3"))
	c := client(t, b, kgo.AllowAutoTopicCreation())
	if err := produce(t, c, "auto-created", "x"); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("auto-created")
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Topics[0].Partitions); n != 3 {
		t.Errorf("%d partitions, want 3 (num.partitions override)", n)
	}
}
