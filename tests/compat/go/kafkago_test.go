package compat

// segmentio's kafka-go: its Client creates the topic, a Writer writes keyed messages (its Hash
// balancer places them alike on both brokers) with every codec, a Reader in a group reads and commits
// them; the Client lists offsets, fetches the commits and describes the group.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// kafkaGoErr is the Kafka error name of a kafka-go error ("NONE" for nil).
func kafkaGoErr(err error) string {
	if err == nil {
		return "NONE"
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return codeName(int16(ke))
	}
	return "error: " + err.Error()
}

func TestKafkaGoWriterAndGroupReader(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		topic, group := name("kafkago"), name("kafkago")
		client := &kafka.Client{Addr: kafka.TCP(tg.bootstrap), Timeout: 10 * time.Second}
		created, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
			Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 3, ReplicationFactor: 1}},
		})
		if err != nil {
			t.Fatalf("creating %s: %v", topic, err)
		}
		f.add("create topic: %s", kafkaGoErr(created.Errors[topic]))
		waitForTopic(t, ctx, admin(t, tg), topic, 3)

		total := 0
		for _, codec := range []compress.Compression{0, kafka.Gzip, kafka.Snappy, kafka.Lz4, kafka.Zstd} {
			w := &kafka.Writer{
				Addr: kafka.TCP(tg.bootstrap), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
				BatchTimeout: 5 * time.Millisecond, Compression: codec,
			}
			codecName := "none"
			if codec != 0 {
				codecName = codec.String()
			}
			var msgs []kafka.Message
			for i := range 6 {
				msgs = append(msgs, kafka.Message{
					Key: []byte(fmt.Sprintf("%s-%d", codecName, i)), Value: []byte(fmt.Sprintf("value %d", i)),
					Headers: []kafka.Header{{Key: "codec", Value: []byte(codecName)}},
					Time:    time.UnixMilli(baseTimestamp + int64(i)),
				})
			}
			err := w.WriteMessages(ctx, msgs...)
			f.add("write %s: %s", codecName, kafkaGoErr(err))
			if err == nil {
				total += len(msgs)
			}
			if err := w.Close(); err != nil {
				t.Errorf("closing the %s writer: %v", codecName, err)
			}
		}

		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{tg.bootstrap}, GroupID: group, Topic: topic, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond,
			HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: 10 * time.Second, RebalanceTimeout: 5 * time.Second,
			JoinGroupBackoff: 100 * time.Millisecond, StartOffset: kafka.FirstOffset, CommitInterval: 0,
		})
		var got []kafka.Message
		for len(got) < total {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Errorf("read %d of %d messages: %v", len(got), total, err)
				break
			}
			got = append(got, m)
			if err := r.CommitMessages(ctx, m); err != nil {
				t.Errorf("committing %d@%d: %v", m.Partition, m.Offset, err)
			}
		}
		sort.Slice(got, func(i, j int) bool {
			return got[i].Partition < got[j].Partition || got[i].Partition == got[j].Partition && got[i].Offset < got[j].Offset
		})
		for _, m := range got {
			var headers []string
			for _, h := range m.Headers {
				headers = append(headers, h.Key+"="+string(h.Value))
			}
			f.add("read p%d@%d key=%s value=%q headers=%v ts=base%+d", m.Partition, m.Offset, m.Key, m.Value, headers, m.Time.UnixMilli()-baseTimestamp)
		}

		described, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil {
			f.add("describe while reading: %s", kafkaGoErr(err))
		} else {
			for _, g := range described.Groups {
				var assigned []string
				for _, m := range g.Members {
					for _, at := range m.MemberAssignments.Topics {
						assigned = append(assigned, fmt.Sprintf("%s %v", short(at.Topic), at.Partitions))
					}
				}
				f.add("describe while reading: %s state=%s members=%d assigned=%v", kafkaGoErr(g.Error), g.GroupState, len(g.Members), assigned)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("closing the reader: %v", err)
		}

		fetched, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2}}})
		if err != nil {
			f.add("offset fetch: %s", kafkaGoErr(err))
		} else {
			f.add("offset fetch: %s", kafkaGoErr(fetched.Error))
			ps := fetched.Topics[topic]
			sort.Slice(ps, func(i, j int) bool { return ps[i].Partition < ps[j].Partition })
			for _, p := range ps {
				f.add("committed p%d@%d metadata=%q %s", p.Partition, p.CommittedOffset, p.Metadata, kafkaGoErr(p.Error))
			}
		}
		listed, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
			topic: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.FirstOffsetOf(1), kafka.LastOffsetOf(1), kafka.FirstOffsetOf(2), kafka.LastOffsetOf(2)},
		}})
		if err != nil {
			f.add("list offsets: %s", kafkaGoErr(err))
		} else {
			ps := listed.Topics[topic]
			sort.Slice(ps, func(i, j int) bool { return ps[i].Partition < ps[j].Partition })
			for _, p := range ps {
				f.add("list offsets p%d: first=%d last=%d %s", p.Partition, p.FirstOffset, p.LastOffset, kafkaGoErr(p.Error))
			}
		}
		if err := waitFor(ctx, func() error {
			d, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
			if err != nil {
				return err
			}
			if len(d.Groups) != 1 || d.Groups[0].GroupState != "Empty" {
				return fmt.Errorf("the group is not Empty after the reader closed: %+v", d.Groups)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
		deleted, err := client.DeleteGroups(context.Background(), &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
		if err != nil {
			f.add("delete the group: %s", kafkaGoErr(err))
		} else {
			f.add("delete the group: %s", kafkaGoErr(deleted.Errors[group]))
		}
	})
}
