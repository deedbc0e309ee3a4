package compat

// IBM's sarama, configured for a current Kafka (Config.Version): the sync and the async (idempotent,
// compressed) producer, the partition consumer, a consumer group, the offset manager and the cluster
// admin's group and offset calls.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// saramaVersion: the Kafka version sarama is told the brokers run (it picks request versions by it):
// the newest it knows.
var saramaVersion = sarama.V4_3_1_0

func saramaConfig(clientID string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = saramaVersion
	cfg.ClientID = "go-compat-" + clientID
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	return cfg
}

// saramaClient is a sarama client of tg, closed when the test ends.
func saramaClient(t *testing.T, tg *target, cfg *sarama.Config) sarama.Client {
	t.Helper()
	cl, err := sarama.NewClient([]string{tg.bootstrap}, cfg)
	if err != nil {
		t.Fatalf("sarama client: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// saramaErr is the Kafka error name of a sarama error ("NONE" for nil).
func saramaErr(err error) string {
	if err == nil {
		return "NONE"
	}
	var ke sarama.KError
	if errors.As(err, &ke) {
		return codeName(int16(ke))
	}
	var pe *sarama.ProducerError
	if errors.As(err, &pe) {
		return saramaErr(pe.Err)
	}
	return "error: " + err.Error()
}

func saramaAdmin(t *testing.T, cl sarama.Client) sarama.ClusterAdmin {
	adm, err := sarama.NewClusterAdminFromClient(cl)
	if err != nil {
		t.Fatalf("sarama admin: %v", err)
	}
	return adm // closing it would close the client; the client's cleanup does
}

// consumedFact is what must read the same of a consumed message on both brokers.
func consumedFact(m *sarama.ConsumerMessage) string {
	var headers []string
	for _, h := range m.Headers {
		headers = append(headers, string(h.Key)+"="+string(h.Value))
	}
	return fmt.Sprintf("p%d@%d key=%q value=%q headers=%v ts=base%+d", m.Partition, m.Offset, m.Key, m.Value, headers,
		m.Timestamp.UnixMilli()-baseTimestamp)
}

// consumePartitions reads every partition of topic from the start until it has n messages.
func consumePartitions(t *testing.T, ctx context.Context, cl sarama.Client, topic string, partitions int32, n int) []*sarama.ConsumerMessage {
	t.Helper()
	consumer, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer consumer.Close()
	all := make(chan *sarama.ConsumerMessage, n)
	for p := range partitions {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consuming %s/%d: %v", topic, p, err)
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				all <- m
			}
		}()
	}
	var msgs []*sarama.ConsumerMessage
	for len(msgs) < n {
		select {
		case m := <-all:
			msgs = append(msgs, m)
		case <-ctx.Done():
			t.Errorf("consumed %d of %d messages before the deadline", len(msgs), n)
			return msgs
		}
	}
	sort.Slice(msgs, func(i, j int) bool {
		return msgs[i].Partition < msgs[j].Partition || msgs[i].Partition == msgs[j].Partition && msgs[i].Offset < msgs[j].Offset
	})
	return msgs
}

// The sync producer: keyed messages (sarama's hash partitioner places them alike on both brokers), one
// at a time and as a batch, read back with the partition consumer; the cluster admin creates the topic.
func TestSaramaSyncProducer(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		cl := saramaClient(t, tg, saramaConfig("sync"))
		adm := saramaAdmin(t, cl)
		topic := name("sarama-sync")
		f.add("validate topic: %s", saramaErr(adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, true)))
		f.add("create topic: %s", saramaErr(adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false)))
		f.add("create it again: %s", saramaErr(adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false)))
		waitForTopic(t, ctx, admin(t, tg), topic, 3)

		producer, err := sarama.NewSyncProducerFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		defer producer.Close()
		message := func(i int) *sarama.ProducerMessage {
			return &sarama.ProducerMessage{
				Topic: topic, Key: sarama.StringEncoder(fmt.Sprint("key-", i)), Value: sarama.StringEncoder(fmt.Sprint("value-", i)),
				Headers:   []sarama.RecordHeader{{Key: []byte("i"), Value: []byte(fmt.Sprint(i))}},
				Timestamp: time.UnixMilli(baseTimestamp + int64(i)),
			}
		}
		for i := range 6 {
			p, o, err := producer.SendMessage(message(i))
			f.add("send %d: p%d@%d %s", i, p, o, saramaErr(err))
		}
		var batch []*sarama.ProducerMessage
		for i := 6; i < 12; i++ {
			batch = append(batch, message(i))
		}
		f.add("send a batch: %s", saramaErr(producer.SendMessages(batch)))
		for i, m := range batch {
			f.add("batch message %d: p%d@%d", i+6, m.Partition, m.Offset)
		}
		for _, m := range consumePartitions(t, ctx, cl, topic, 3, 12) {
			f.add("consumed %s", consumedFact(m))
		}
	})
}

// The async producer, idempotent, one compression codec per partition key range; what it reports as
// written, and the offsets ListOffsets gives afterwards.
func TestSaramaAsyncIdempotentProducer(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic := name("sarama-async")
		createTopic(t, ctx, admin(t, tg), topic, 2, nil)
		for _, codec := range []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy,
			sarama.CompressionLZ4, sarama.CompressionZSTD} {
			cfg := saramaConfig("async-" + codec.String())
			cfg.Producer.Idempotent = true
			cfg.Net.MaxOpenRequests = 1
			cfg.Producer.Compression = codec
			cfg.Producer.Return.Errors = true
			cfg.Producer.Flush.Messages = 5
			producer, err := sarama.NewAsyncProducerFromClient(saramaClient(t, tg, cfg))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				producer.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("%s-%d", codec, i)),
					Value: sarama.StringEncoder(strings.Repeat(codec.String(), 50)), Timestamp: time.UnixMilli(baseTimestamp + int64(i))}
			}
			var written []string
			for range 10 {
				select {
				case m := <-producer.Successes():
					written = append(written, fmt.Sprintf("%s p%d@%d", m.Key, m.Partition, m.Offset))
				case e := <-producer.Errors():
					written = append(written, fmt.Sprintf("%s failed: %s", e.Msg.Key, saramaErr(e.Err)))
				case <-ctx.Done():
					t.Fatalf("%s: the producer did not answer for every message", codec)
				}
			}
			slices.Sort(written)
			for _, w := range written {
				f.add("%s: %s", codec, w)
			}
			if err := producer.Close(); err != nil {
				t.Errorf("%s: closing the producer: %v", codec, err)
			}
		}
		cl := saramaClient(t, tg, saramaConfig("async-offsets"))
		for p := range int32(2) {
			oldest, err1 := cl.GetOffset(topic, p, sarama.OffsetOldest)
			newest, err2 := cl.GetOffset(topic, p, sarama.OffsetNewest)
			at, err3 := cl.GetOffset(topic, p, baseTimestamp+5)
			f.add("p%d: oldest=%d %s newest=%d %s at base+5=%d %s", p, oldest, saramaErr(err1), newest, saramaErr(err2), at, saramaErr(err3))
		}
		for _, m := range consumePartitions(t, ctx, cl, topic, 2, 50) {
			f.add("consumed p%d@%d key=%s ts=base%+d", m.Partition, m.Offset, m.Key, m.Timestamp.UnixMilli()-baseTimestamp)
		}
	})
}

// groupHandler consumes until it has seen want messages, marking each; it records its claims.
type groupHandler struct {
	mu     sync.Mutex
	claims []string
	seen   int
	want   int
	done   chan struct{}
}

func (h *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for topic, ps := range s.Claims() {
		ps = slices.Clone(ps)
		slices.Sort(ps)
		h.claims = append(h.claims, fmt.Sprintf("%s %v", short(topic), ps))
	}
	return nil
}

func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		s.MarkMessage(m, "")
		h.mu.Lock()
		h.seen++
		if h.seen == h.want {
			s.Commit()
			close(h.done)
		}
		h.mu.Unlock()
	}
	return nil
}

// A sarama consumer group of one member: it reads everything, commits, leaves; the cluster admin
// describes the group and its offsets, deletes an offset and the group.
func TestSaramaConsumerGroup(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic, group := name("sarama-group"), name("sarama-group")
		cl := saramaClient(t, tg, saramaConfig("group-admin"))
		adm := saramaAdmin(t, cl)
		if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatal(err)
		}
		waitForTopic(t, ctx, admin(t, tg), topic, 3)
		producer, err := sarama.NewSyncProducerFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []*sarama.ProducerMessage
		for i := range 12 {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder("v")})
		}
		if err := producer.SendMessages(msgs); err != nil {
			t.Fatal(err)
		}
		perPartition := map[int32]int64{}
		for _, m := range msgs {
			perPartition[m.Partition]++
		}

		consumerGroup, err := sarama.NewConsumerGroupFromClient(group, saramaClient(t, tg, saramaConfig("group-member")))
		if err != nil {
			t.Fatal(err)
		}
		h := &groupHandler{want: 12, done: make(chan struct{})}
		consumeCtx, stop := context.WithCancel(ctx)
		consumed := make(chan error, 1)
		go func() {
			for consumeCtx.Err() == nil {
				if err := consumerGroup.Consume(consumeCtx, []string{topic}, h); err != nil {
					consumed <- err
					return
				}
			}
			consumed <- nil
		}()
		select {
		case <-h.done:
		case err := <-consumed:
			t.Fatalf("the group stopped consuming: %v", err)
		case <-ctx.Done():
			t.Fatalf("the group consumed %d of 12 messages before the deadline", h.seen)
		}
		f.add("claims: %v", h.claims)

		described, err := adm.DescribeConsumerGroups([]string{group})
		if err != nil || len(described) != 1 {
			f.add("describe while consuming: %s", saramaErr(err))
		} else {
			d := described[0]
			f.add("describe while consuming: %s state=%s protocol-type=%s protocol=%s members=%d", codeName(int16(d.Err)), d.State, d.ProtocolType, d.Protocol, len(d.Members))
		}
		offsets := func(what string) {
			resp, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
			if err != nil {
				f.add("%s: %s", what, saramaErr(err))
				return
			}
			for p := range int32(3) {
				b := resp.GetBlock(topic, p)
				if b == nil {
					f.add("%s: p%d missing", what, p)
					continue
				}
				if b.Offset != -1 && b.Offset != perPartition[p] {
					t.Errorf("%s: p%d committed at %d, the partition holds %d", what, p, b.Offset, perPartition[p])
				}
				f.add("%s: p%d committed=%v leader-epoch=%d metadata=%q %s", what, p, b.Offset >= 0, b.LeaderEpoch, b.Metadata, codeName(int16(b.Err)))
			}
		}
		offsets("offsets while consuming")
		f.add("delete an offset while subscribed: %s", saramaErr(adm.DeleteConsumerGroupOffset(group, topic, 0)))
		f.add("delete the group while it has a member: %s", saramaErr(adm.DeleteConsumerGroup(group)))

		stop()
		if err := <-consumed; err != nil {
			t.Errorf("consuming: %v", err)
		}
		if err := consumerGroup.Close(); err != nil {
			t.Errorf("closing the group: %v", err)
		}
		if err := waitFor(ctx, func() error {
			d, err := adm.DescribeConsumerGroups([]string{group})
			if err != nil {
				return err
			}
			if len(d) != 1 || d[0].State != "Empty" {
				return fmt.Errorf("the group is not Empty: %+v", d)
			}
			return nil
		}); err != nil {
			t.Errorf("after leaving: %v", err)
		}
		listed, err := adm.ListConsumerGroups()
		f.add("listed after leaving: %s protocol-type=%q", saramaErr(err), listed[group])
		f.add("delete an offset of the empty group: %s", saramaErr(adm.DeleteConsumerGroupOffset(group, topic, 0)))
		offsets("offsets after deleting p0's")
		f.add("delete the empty group: %s", saramaErr(adm.DeleteConsumerGroup(group)))
		f.add("delete it again: %s", saramaErr(adm.DeleteConsumerGroup(group)))
	})
}

// The offset manager: commits with metadata, what a new manager resumes from; GetOffset by time.
func TestSaramaOffsetManager(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic, group := name("sarama-offsets"), name("sarama-offsets")
		createTopic(t, ctx, admin(t, tg), topic, 1, nil)
		cl := saramaClient(t, tg, saramaConfig("offsets"))
		producer, err := sarama.NewSyncProducerFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("v"),
				Timestamp: time.UnixMilli(baseTimestamp + int64(i)*100)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, ts := range []int64{sarama.OffsetOldest, sarama.OffsetNewest, baseTimestamp, baseTimestamp + 150, baseTimestamp + 401, baseTimestamp + 10000} {
			o, err := cl.GetOffset(topic, 0, ts)
			label := fmt.Sprint(ts)
			if ts > 0 {
				label = fmt.Sprintf("base%+d", ts-baseTimestamp)
			}
			f.add("GetOffset %s: %d %s", label, o, saramaErr(err))
		}

		resume := func(what string) {
			om, err := sarama.NewOffsetManagerFromClient(group, cl)
			if err != nil {
				t.Fatal(err)
			}
			defer om.Close() // (without auto-commit, the manager's Close is what releases its partition managers)
			pom, err := om.ManagePartition(topic, 0)
			if err != nil {
				f.add("%s: %s", what, saramaErr(err))
				return
			}
			defer pom.AsyncClose()
			next, metadata := pom.NextOffset()
			f.add("%s: next=%d metadata=%q", what, next, metadata)
		}
		resume("a new group")
		om, err := sarama.NewOffsetManagerFromClient(group, cl)
		if err != nil {
			t.Fatal(err)
		}
		pom, err := om.ManagePartition(topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		pom.MarkOffset(3, "three")
		om.Commit()
		select {
		case e := <-pom.Errors():
			f.add("commit: %s", saramaErr(e.Err))
		default:
			f.add("commit: no error")
		}
		pom.ResetOffset(2, "two (reset)")
		om.Commit()
		pom.AsyncClose()
		_ = om.Close()
		resume("after committing")
	})
}
