package compat

// franz-go's kadm (and raw kmsg requests where kadm has no call): topics, configs, group
// administration, ListOffsets, DeleteRecords, DescribeCluster, DescribeLogDirs, DescribeProducers.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func strp(s string) *string { return &s }

func valueOf(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// Topic creation, validation and its errors, metadata, partition increases and deletion.
func TestKadmTopics(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-topics")
		configs := map[string]*string{"retention.ms": strp("3600000"), "cleanup.policy": strp("compact")}

		created := func(what string, resp kadm.CreateTopicResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, r := range resp.Sorted() {
				var all []string
				for key := range r.Configs {
					all = append(all, key)
				}
				slices.Sort(all)
				f.add("%s: %s %s partitions=%d replication-factor=%d configs=%s", what, short(r.Topic), errName(r.Err),
					r.NumPartitions, r.ReplicationFactor, strings.Join(all, " "))
				if r.Err == nil {
					for _, key := range []string{"retention.ms", "cleanup.policy", "segment.bytes"} {
						c := r.Configs[key]
						f.add("%s: %s config %s=%s source=%s", what, short(r.Topic), key, valueOf(c.Value), c.Source)
					}
				}
			}
		}
		resp, err := adm.ValidateCreateTopics(ctx, 3, 1, configs, topic)
		created("validate only", resp, err)
		resp, err = adm.CreateTopics(ctx, 3, 1, configs, topic)
		created("create", resp, err)
		resp, err = adm.CreateTopics(ctx, 3, 1, nil, topic)
		created("create again", resp, err)
		resp, err = adm.CreateTopics(ctx, -1, -1, nil, name("kadm-topics-defaults"))
		created("broker defaults", resp, err)
		resp, err = adm.CreateTopics(ctx, 1, 1, map[string]*string{"retention.ms": strp("soon")}, name("kadm-bad-config"))
		created("bad config value", resp, err)
		resp, err = adm.CreateTopics(ctx, 1, 1, map[string]*string{"no.such.config": strp("1")}, name("kadm-unknown-config"))
		created("unknown config", resp, err)
		resp, err = adm.CreateTopics(ctx, 1, 3, nil, name("kadm-rf3"))
		created("replication factor 3", resp, err)
		resp, err = adm.CreateTopics(ctx, 0, 1, nil, name("kadm-zero-partitions"))
		created("zero partitions", resp, err)
		resp, err = adm.CreateTopics(ctx, 1, 1, nil, "go bad name "+runID)
		created("bad name", resp, err)
		resp, err = adm.CreateTopics(ctx, 1, 1, nil, "go-"+strings.Repeat("x", 250))
		created("name too long", resp, err)

		waitForTopic(t, ctx, adm, topic, 3)
		waitForTopic(t, ctx, adm, name("kadm-topics-defaults"), 1)
		listed, err := adm.ListTopics(ctx, topic, name("kadm-topics-defaults"), name("kadm-missing"))
		if err != nil {
			f.add("metadata failed: %s", errName(err))
		}
		for _, d := range listed.Sorted() {
			f.add("metadata %s: %s internal=%v partitions=%d", short(d.Topic), errName(d.Err), d.IsInternal, len(d.Partitions))
			for _, p := range d.Partitions.Sorted() {
				f.add("metadata %s/%d: %s leader=%d leader-epoch=%d replicas=%v isr=%v offline=%v", short(d.Topic),
					p.Partition, errName(p.Err), p.Leader, p.LeaderEpoch, p.Replicas, p.ISR, p.OfflineReplicas)
			}
		}

		partitioned := func(what string, resp kadm.CreatePartitionsResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, r := range resp.Sorted() {
				f.add("%s: %s %s", what, short(r.Topic), errName(r.Err))
			}
		}
		cp, err := adm.ValidateCreatePartitions(ctx, 2, topic)
		partitioned("validate adding 2 partitions", cp, err)
		cp, err = adm.CreatePartitions(ctx, 2, topic)
		partitioned("add 2 partitions", cp, err)
		cp, err = adm.UpdatePartitions(ctx, 2, topic)
		partitioned("set 2 partitions (fewer)", cp, err)
		cp, err = adm.UpdatePartitions(ctx, 5, topic)
		partitioned("set 5 partitions (as many)", cp, err)
		cp, err = adm.CreatePartitions(ctx, 1, name("kadm-missing"))
		partitioned("add to a missing topic", cp, err)
		if err := waitFor(ctx, func() error {
			d, err := adm.ListTopics(ctx, topic)
			if err != nil {
				return err
			}
			if n := len(d[topic].Partitions); n != 5 {
				return fmt.Errorf("%d partitions", n)
			}
			return nil
		}); err != nil {
			t.Errorf("the topic does not show 5 partitions: %v", err)
		}

		deleted := func(what string, resp kadm.DeleteTopicResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			var lines []string
			for _, r := range resp {
				lines = append(lines, fmt.Sprintf("%s: %s %s", what, short(r.Topic), errName(r.Err)))
			}
			slices.Sort(lines)
			for _, l := range lines {
				f.add("%s", l)
			}
		}
		dr, err := adm.DeleteTopics(ctx, topic, name("kadm-topics-defaults"))
		deleted("delete", dr, err)
		dr, err = adm.DeleteTopics(ctx, topic)
		deleted("delete again", dr, err)
		if err := waitFor(ctx, func() error {
			d, err := adm.ListTopics(ctx)
			if err != nil {
				return err
			}
			if d.Has(topic) {
				return fmt.Errorf("%s is still listed", topic)
			}
			return nil
		}); err != nil {
			t.Errorf("deleted topic: %v", err)
		}
	})
}

// configFacts records each named config of a described resource: value, source, flags, synonyms.
func configFacts(f *facts, what string, rc kadm.ResourceConfig, keys []string) {
	byKey := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		byKey[c.Key] = c
	}
	for _, key := range keys {
		c, ok := byKey[key]
		if !ok {
			f.add("%s: %s missing", what, key)
			continue
		}
		var synonyms []string
		for _, s := range c.Synonyms {
			synonyms = append(synonyms, fmt.Sprintf("%s=%s(%s)", s.Key, valueOf(s.Value), s.Source))
		}
		f.add("%s: %s=%s source=%s sensitive=%v synonyms=%v", what, key, valueOf(c.Value), c.Source, c.Sensitive, synonyms)
	}
}

// Topic configs described, altered incrementally (set, delete, append, subtract) and wholesale;
// broker configs described. Only keys both brokers know and set alike are compared one by one.
func TestKadmConfigs(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-configs")
		createTopic(t, ctx, adm, topic, 1, map[string]*string{"retention.ms": strp("3600000"), "max.message.bytes": strp("200000")})
		keys := []string{"retention.ms", "retention.bytes", "cleanup.policy", "max.message.bytes", "segment.bytes",
			"compression.type", "message.timestamp.type", "min.insync.replicas", "segment.ms", "delete.retention.ms",
			"min.cleanable.dirty.ratio", "message.timestamp.before.max.ms", "message.timestamp.after.max.ms"}
		describe := func(what string) {
			rcs, err := adm.DescribeTopicConfigs(ctx, topic)
			if err != nil {
				f.add("%s: describe failed: %s", what, errName(err))
				return
			}
			for _, rc := range rcs {
				f.add("%s: %s %s", what, short(rc.Name), errName(rc.Err))
				if what == "created" {
					var all []string
					for _, c := range rc.Configs {
						all = append(all, c.Key)
					}
					slices.Sort(all)
					f.add("%s: every key: %s", what, strings.Join(all, " "))
				}
				configFacts(f, what, rc, keys)
			}
		}
		describe("created")
		// Kafka's brokers apply an alteration a little after answering it: wait until key reads want.
		settled := func(key, want string) {
			err := waitFor(ctx, func() error {
				rcs, err := adm.DescribeTopicConfigs(ctx, topic)
				if err != nil {
					return err
				}
				rc, err := rcs.On(topic, nil)
				if err != nil {
					return err
				}
				for _, c := range rc.Configs {
					if c.Key == key && valueOf(c.Value) == want {
						return nil
					}
				}
				return fmt.Errorf("%s is not %s yet", key, want)
			})
			if err != nil {
				t.Errorf("the alteration does not show: %v", err)
			}
		}

		altered := func(what string, resp kadm.AlterConfigsResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, r := range resp {
				f.add("%s: %s %s", what, short(r.Name), errName(r.Err))
			}
		}
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("7200000")},
			{Op: kadm.DeleteConfig, Name: "max.message.bytes"},
			{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: strp("compact")},
		}, topic)
		altered("set, delete, append", resp, err)
		settled("retention.ms", "7200000")
		describe("altered")
		resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: strp("delete")}}, topic)
		altered("subtract", resp, err)
		settled("cleanup.policy", "compact")
		resp, err = adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("1")}}, topic)
		altered("validate only", resp, err)
		resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("never")}}, topic)
		altered("bad value", resp, err)
		resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "no.such.config", Value: strp("1")}}, topic)
		altered("unknown key", resp, err)
		resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: strp("1")}}, topic)
		altered("append to a non-list", resp, err)
		resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("1")}}, name("kadm-missing"))
		altered("missing topic", resp, err)
		describe("after the failed alterations")
		resp, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.ms", Value: strp("600000")}}, topic)
		altered("replace all (AlterConfigs)", resp, err)
		settled("segment.ms", "600000")
		describe("replaced")

		rcs, err := adm.DescribeTopicConfigs(ctx, name("kadm-missing"))
		if err != nil {
			f.add("describe a missing topic: request failed: %s", errName(err))
		}
		for _, rc := range rcs {
			f.add("describe a missing topic: %s", errName(rc.Err))
		}

		// Broker 1's configs: both brokers run with defaults for these keys (the Kafka fixture's
		// server.properties and Brook's --ephemeral set others).
		brokers, err := adm.DescribeBrokerConfigs(ctx, 1)
		if err != nil {
			f.add("broker configs: request failed: %s", errName(err))
		}
		for _, rc := range brokers {
			f.add("broker configs: %s %s", rc.Name, errName(rc.Err))
			configFacts(f, "broker", rc, []string{"message.max.bytes", "log.retention.hours", "log.retention.ms",
				"log.segment.bytes", "compression.type", "log.cleanup.policy",
				"group.min.session.timeout.ms", "group.max.session.timeout.ms", "offsets.retention.minutes"})
		}
		// The cluster-wide dynamic defaults (the resource named ""): only what is set dynamically.
		cluster, err := adm.DescribeBrokerConfigs(ctx)
		if err != nil {
			f.add("cluster defaults: request failed: %s", errName(err))
		}
		for _, rc := range cluster {
			var set []string
			for _, c := range rc.Configs {
				set = append(set, fmt.Sprintf("%s=%s(%s)", c.Key, valueOf(c.Value), c.Source))
			}
			slices.Sort(set)
			f.add("cluster defaults: %s %v", errName(rc.Err), set)
		}
	})
}

// Group administration on a group with one kgo member and offsets committed by kadm: commits with
// metadata and leader epochs and their errors, describe, lag, offset deletion, group deletion.
func TestKadmGroupAdmin(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic, other, group := name("kadm-groups"), name("kadm-groups-other"), name("kadm-groups")
		createTopic(t, ctx, adm, topic, 2, nil)
		createTopic(t, ctx, adm, other, 1, nil)
		producer := kgoClient(t, tg, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
		}
		recs = append(recs, &kgo.Record{Topic: other, Value: []byte("x")})
		produceSync(t, ctx, producer, recs...)

		committed := func(what string, resp kadm.OffsetResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, o := range resp.Sorted() {
				f.add("%s: %s/%d@%d leader-epoch=%d metadata=%q %s", what, short(o.Topic), o.Partition, o.At, o.LeaderEpoch, o.Metadata, errName(o.Err))
			}
		}
		offsets := kadm.Offsets{}
		offsets.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3, LeaderEpoch: 0, Metadata: "first"})
		offsets.Add(kadm.Offset{Topic: topic, Partition: 1, At: 5, LeaderEpoch: -1})
		offsets.Add(kadm.Offset{Topic: other, Partition: 0, At: 1, LeaderEpoch: -1})
		resp, err := adm.CommitOffsets(ctx, group, offsets)
		committed("commit to an empty group", resp, err)
		bad := kadm.Offsets{}
		bad.Add(kadm.Offset{Topic: name("kadm-missing"), Partition: 0, At: 1, LeaderEpoch: -1})
		bad.Add(kadm.Offset{Topic: topic, Partition: 7, At: 1, LeaderEpoch: -1})
		resp, err = adm.CommitOffsets(ctx, group, bad)
		committed("commit to missing partitions", resp, err)
		resp, err = adm.FetchOffsets(ctx, group)
		committed("fetch", resp, err)
		resp, err = adm.FetchOffsetsForTopics(ctx, group, topic, name("kadm-missing"))
		committed("fetch for topics", resp, err)
		resp, err = adm.FetchOffsets(ctx, name("kadm-no-such-group"))
		committed("fetch an unknown group", resp, err)

		describedGroup := func(what, g string) {
			described, err := adm.DescribeGroups(ctx, g)
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			d := described[g]
			f.add("%s: %s state=%s protocol-type=%s protocol=%s members=%d", what, errName(d.Err), d.State, d.ProtocolType, d.Protocol, len(d.Members))
		}
		describedGroup("describe the committed-to group", group)
		describedGroup("describe an unknown group", name("kadm-no-such-group"))
		lag := func(what string) {
			lags, err := adm.Lag(ctx, group)
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			l := lags[group]
			f.add("%s: %s state=%s", what, errName(l.Error()), l.State)
			for _, ml := range l.Lag.Sorted() {
				f.add("%s: %s/%d commit=%d start=%d end=%d lag=%d member=%v %s", what, short(ml.Topic), ml.Partition,
					ml.Commit.At, ml.Start.Offset, ml.End.Offset, ml.Lag, ml.Member != nil, errName(ml.Err))
			}
		}
		lag("lag, empty group")

		// A member subscribed to topic (not to other) joins.
		m := startMember(t, ctx, tg, "admin-member", group, topic)
		waitOwned(t, ctx, 2, []*member{m}, 2)
		// It resumes from the commits: offsets 3 and 4 of partition 0, none of partition 1.
		if err := waitFor(ctx, func() error {
			if n := m.consumedCount(); n != 2 {
				return fmt.Errorf("the member consumed %d records, want 2", n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		describedGroup("describe with a member", group)
		lag("lag with a member")
		resp, err = adm.CommitOffsets(ctx, group, offsets)
		committed("commit as a non-member while the group has one", resp, err)

		deletedOffsets := func(what string, resp kadm.DeleteOffsetsResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			var lines []string
			for tp, ps := range resp {
				for p, err := range ps {
					lines = append(lines, fmt.Sprintf("%s: %s/%d %s", what, short(tp), p, errName(err)))
				}
			}
			sort.Strings(lines)
			for _, l := range lines {
				f.add("%s", l)
			}
		}
		set := func(tp string, ps ...int32) kadm.TopicsSet {
			s := kadm.TopicsSet{}
			s.Add(tp, ps...)
			return s
		}
		do, err := adm.DeleteOffsets(ctx, group, set(topic, 0))
		deletedOffsets("delete offsets of a subscribed topic", do, err)
		do, err = adm.DeleteOffsets(ctx, group, set(other, 0))
		deletedOffsets("delete offsets of an unsubscribed topic", do, err)
		do, err = adm.DeleteOffsets(ctx, name("kadm-no-such-group"), set(topic, 0))
		deletedOffsets("delete offsets of an unknown group", do, err)

		groupsDeleted := func(what string, resp kadm.DeleteGroupResponses, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, r := range resp.Sorted() {
				f.add("%s: %s %s", what, short(r.Group), errName(r.Err))
			}
		}
		dg, err := adm.DeleteGroups(ctx, group, name("kadm-no-such-group"))
		groupsDeleted("delete a group with a member, and an unknown one", dg, err)

		m.leave(t, ctx)
		if err := waitFor(ctx, func() error {
			d, err := adm.DescribeGroups(ctx, group)
			if err != nil {
				return err
			}
			if s := d[group].State; s != "Empty" {
				return fmt.Errorf("state %s", s)
			}
			return nil
		}); err != nil {
			t.Fatalf("the group did not become empty: %v", err)
		}
		resp, err = adm.FetchOffsets(ctx, group)
		// (kgo commits its member id as the metadata: not compared)
		for _, ps := range resp {
			for p, o := range ps {
				o.Metadata = "(member)"
				ps[p] = o
			}
		}
		committed("fetch after the member left", resp, err)
		do, err = adm.DeleteOffsets(ctx, group, set(topic, 0, 1))
		deletedOffsets("delete offsets of an empty group", do, err)
		resp, err = adm.FetchOffsets(ctx, group)
		committed("fetch after deleting offsets", resp, err)
		dg, err = adm.DeleteGroups(ctx, group)
		groupsDeleted("delete the empty group", dg, err)
		describedGroup("describe the deleted group", group)
		resp, err = adm.FetchOffsets(ctx, group)
		committed("fetch from the deleted group", resp, err)
	})
}

// ListOffsets: earliest, latest, by timestamp (records written out of time order), max timestamp,
// committed (read_committed latest), local log start; an empty partition and a missing topic.
func TestKadmListOffsets(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-listoffsets")
		createTopic(t, ctx, adm, topic, 2, nil)
		producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		// Partition 0: two batches, timestamps not in offset order; partition 1 stays empty.
		stamps := [][]int64{{30, 10, 50}, {20, 40, 45}}
		for _, batch := range stamps {
			var recs []*kgo.Record
			for _, ts := range batch {
				recs = append(recs, &kgo.Record{Partition: 0, Value: []byte(fmt.Sprint(ts)), Timestamp: time.UnixMilli(baseTimestamp + ts)})
			}
			produceSync(t, ctx, producer, recs...)
		}
		listed := func(what string, l kadm.ListedOffsets, err error) {
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			var lines []string
			l.Each(func(o kadm.ListedOffset) {
				ts := "-1"
				if o.Timestamp >= 0 {
					ts = fmt.Sprintf("base%+d", o.Timestamp-baseTimestamp)
				}
				lines = append(lines, fmt.Sprintf("%s: %s/%d offset=%d timestamp=%s leader-epoch=%d %s", what, short(o.Topic), o.Partition, o.Offset, ts, o.LeaderEpoch, errName(o.Err)))
			})
			sort.Strings(lines)
			for _, line := range lines {
				f.add("%s", line)
			}
		}
		l, err := adm.ListStartOffsets(ctx, topic)
		listed("earliest", l, err)
		l, err = adm.ListEndOffsets(ctx, topic)
		listed("latest", l, err)
		l, err = adm.ListCommittedOffsets(ctx, topic)
		listed("latest committed", l, err)
		l, err = adm.ListMaxTimestampOffsets(ctx, topic)
		listed("max timestamp", l, err)
		l, err = adm.ListLocalLogStartOffsets(ctx, topic)
		listed("local log start", l, err)
		for _, after := range []int64{0, 15, 35, 46, 50, 51} {
			l, err = adm.ListOffsetsAfterMilli(ctx, baseTimestamp+after, topic)
			listed(fmt.Sprintf("after base%+d", after), l, err)
		}
		l, err = adm.ListEndOffsets(ctx, name("kadm-missing"))
		listed("latest of a missing topic", l, err)

		// Partitions the request names that the topic lacks, with raw ListOffsets.
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range []int32{0, 5} {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		raw, err := req.RequestWith(ctx, brokerOf(t, ctx, tg))
		if err != nil {
			f.add("raw ListOffsets failed: %s", errName(err))
		} else {
			var lines []string // (Kafka answers the partitions in no particular order)
			for _, rt := range raw.Topics {
				for _, rp := range rt.Partitions {
					lines = append(lines, fmt.Sprintf("raw ListOffsets latest %s/%d: offset=%d timestamp=%d %s", short(rt.Topic), rp.Partition, rp.Offset, rp.Timestamp, codeName(rp.ErrorCode)))
				}
			}
			slices.Sort(lines)
			for _, l := range lines {
				f.add("%s", l)
			}
		}
	})
}

// DeleteRecords: up to an offset, to the high watermark (-1), past it, on a missing topic; what
// ListOffsets and a consumer see afterwards.
func TestKadmDeleteRecords(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-deleterecords")
		createTopic(t, ctx, adm, topic, 2, nil)
		producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		for batch := range 2 {
			var recs []*kgo.Record
			for i := range 5 {
				recs = append(recs, &kgo.Record{Partition: 0, Value: []byte(fmt.Sprint(batch*5 + i))}, &kgo.Record{Partition: 1, Value: []byte(fmt.Sprint(batch*5 + i))})
			}
			produceSync(t, ctx, producer, recs...)
		}
		deleted := func(what string, o kadm.Offsets) {
			resp, err := adm.DeleteRecords(ctx, o)
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			var lines []string
			resp.Each(func(r kadm.DeleteRecordsResponse) {
				lines = append(lines, fmt.Sprintf("%s: %s/%d low-watermark=%d %s", what, short(r.Topic), r.Partition, r.LowWatermark, errName(r.Err)))
			})
			sort.Strings(lines)
			for _, l := range lines {
				f.add("%s", l)
			}
		}
		at := func(tp string, p int32, offset int64) kadm.Offsets {
			o := kadm.Offsets{}
			o.Add(kadm.Offset{Topic: tp, Partition: p, At: offset, LeaderEpoch: -1})
			return o
		}
		deleted("delete p0 before 3 (inside the first batch)", at(topic, 0, 3))
		deleted("delete p0 before 2 (behind the start)", at(topic, 0, 2))
		deleted("delete p1 up to the high watermark (-1)", at(topic, 1, -1))
		deleted("delete p0 before 20 (past the end)", at(topic, 0, 20))
		deleted("delete on a missing partition", at(topic, 9, 1))
		deleted("delete on a missing topic", at(name("kadm-missing"), 0, 1))

		starts, err := adm.ListStartOffsets(ctx, topic)
		if err != nil {
			f.add("earliest: request failed: %s", errName(err))
		}
		for _, p := range []int32{0, 1} {
			o, _ := starts.Lookup(topic, p)
			f.add("earliest p%d: offset=%d %s", p, o.Offset, errName(o.Err))
		}
		cl := kgoClient(t, tg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
		recs, err := pollRecords(ctx, cl, 7)
		if err != nil {
			t.Errorf("consuming p0 from its start: %v", err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d(%s)", r.Offset, r.Value))
		}
		f.add("p0 from the start: %s", strings.Join(got, " "))
		// A consumer asking for an offset below the new start gets OFFSET_OUT_OF_RANGE and resets.
		cl = kgoClient(t, tg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(1)}}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		recs, err = pollRecords(ctx, cl, 1)
		if err != nil || len(recs) == 0 {
			t.Errorf("consuming p0 from offset 1: %v", err)
		} else {
			f.add("p0 from offset 1 (deleted) resets to %d", recs[0].Offset)
		}
	})
}

// DescribeCluster (no kadm call: raw kmsg): brokers, controller, cluster id presence, endpoint types.
func TestDescribeCluster(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		cl := kgoClient(t, tg)
		for _, c := range []struct {
			what         string
			endpointType int8
			authorized   bool
			fenced       bool
		}{
			{"brokers", 1, false, false},
			{"brokers with authorized operations", 1, true, false},
			{"brokers with fenced ones", 1, false, true},
			{"controllers", 2, false, false},
		} {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.EndpointType = c.endpointType
			req.IncludeClusterAuthorizedOperations = c.authorized
			req.IncludeFencedBrokers = c.fenced
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				f.add("%s: request failed: %s", c.what, errName(err))
				continue
			}
			var brokers []string
			for _, b := range resp.Brokers {
				brokers = append(brokers, fmt.Sprintf("node %d host %s rack %s fenced=%v", b.NodeID, b.Host, valueOf(b.Rack), b.IsFenced))
			}
			f.add("%s: %s endpoint-type=%d controller=%d cluster-id-set=%v brokers=%v authorized-operations=%d",
				c.what, codeName(resp.ErrorCode), resp.EndpointType, resp.ControllerID, resp.ClusterID != "", brokers, resp.ClusterAuthorizedOperations)
		}
	})
}

// DescribeLogDirs: the partitions of one topic (their sizes: both brokers keep batches as sent), all
// topics (filtered to this one), a missing topic.
func TestKadmDescribeLogDirs(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-logdirs")
		createTopic(t, ctx, adm, topic, 2, nil)
		producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.ProducerBatchCompression(kgo.NoCompression()))
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Partition: 0, Key: []byte(fmt.Sprint(i)), Value: []byte(strings.Repeat("v", 100)), Timestamp: time.UnixMilli(baseTimestamp + int64(i))})
		}
		produceSync(t, ctx, producer, recs...)

		described := func(what string, s kadm.TopicsSet) {
			all, err := adm.DescribeAllLogDirs(ctx, s)
			if err != nil {
				f.add("%s: request failed: %s", what, errName(err))
				return
			}
			for _, d := range all.Sorted() {
				if d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
					t.Errorf("%s: log dir %s: total %d bytes, usable %d", what, d.Dir, d.TotalBytes, d.UsableBytes)
				}
				f.add("%s: broker %d dir %s cordoned=%v", what, d.Broker, errName(d.Err), d.IsCordoned)
				var lines []string
				for tp, ps := range d.Topics {
					if tp != topic {
						continue // the shared Kafka broker holds other suites' topics
					}
					for _, p := range ps {
						lines = append(lines, fmt.Sprintf("%s: %s/%d size=%d offset-lag=%d future=%v", what, short(tp), p.Partition, p.Size, p.OffsetLag, p.IsFuture))
					}
				}
				sort.Strings(lines)
				for _, l := range lines {
					f.add("%s", l)
				}
			}
		}
		s := kadm.TopicsSet{}
		s.Add(topic, 0, 1)
		described("both partitions", s)
		described("all topics", nil)
		missing := kadm.TopicsSet{}
		missing.Add(name("kadm-missing"), 0)
		described("a missing topic", missing)
	})
}

// DescribeProducers: the idempotent producers of two partitions, and of a missing one.
func TestKadmDescribeProducers(t *testing.T) {
	sideBySide(t, func(t *testing.T, tg *target, f *facts) {
		ctx := scenarioContext(t)
		adm := admin(t, tg)
		topic := name("kadm-producers")
		createTopic(t, ctx, adm, topic, 3, nil)
		ids := map[string]int64{}
		for _, who := range []string{"first", "second"} {
			producer := kgoClient(t, tg, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			for batch := range 2 {
				var recs []*kgo.Record
				for i := range 3 {
					p := int32(0)
					if who == "second" {
						p = int32(i % 2)
					}
					recs = append(recs, &kgo.Record{Partition: p, Value: []byte(who), Timestamp: time.UnixMilli(baseTimestamp + int64(batch*10+i))})
				}
				results := producer.ProduceSync(ctx, recs...)
				if err := results.FirstErr(); err != nil {
					t.Fatalf("%s: %v", who, err)
				}
				ids[who] = results[0].Record.ProducerID
			}
		}
		s := kadm.TopicsSet{}
		s.Add(topic, 0, 1, 2)
		described, err := adm.DescribeProducers(ctx, s)
		if err != nil {
			f.add("request failed: %s", errName(err))
			return
		}
		who := func(id int64) string {
			for name, known := range ids {
				if known == id {
					return name
				}
			}
			return fmt.Sprintf("unknown producer %d", id)
		}
		for _, dt := range described.Sorted() {
			for _, dp := range dt.Partitions.Sorted() {
				f.add("%s/%d: %s producers=%d", short(dp.Topic), dp.Partition, errName(dp.Err), len(dp.ActiveProducers))
				var lines []string
				for _, p := range dp.ActiveProducers.Sorted() {
					lines = append(lines, fmt.Sprintf("%s/%d: %s epoch=%d last-sequence=%d last-timestamp=base%+d coordinator-epoch=%d txn-start=%d",
						short(p.Topic), p.Partition, who(p.ProducerID), p.ProducerEpoch, p.LastSequence, p.LastTimestamp-baseTimestamp,
						p.CoordinatorEpoch, p.CurrentTxnStartOffset))
				}
				slices.Sort(lines)
				for _, l := range lines {
					f.add("%s", l)
				}
			}
		}

		// A partition the topic lacks and a missing topic, asked of the broker directly.
		req := kmsg.NewPtrDescribeProducersRequest()
		for _, tp := range []string{topic, name("kadm-missing")} {
			rt := kmsg.NewDescribeProducersRequestTopic()
			rt.Topic, rt.Partitions = tp, []int32{7}
			req.Topics = append(req.Topics, rt)
		}
		raw, err := req.RequestWith(ctx, brokerOf(t, ctx, tg))
		if err != nil {
			f.add("raw DescribeProducers failed: %s", errName(err))
			return
		}
		var lines []string
		for _, rt := range raw.Topics {
			for _, rp := range rt.Partitions {
				lines = append(lines, fmt.Sprintf("raw DescribeProducers %s/%d: %s producers=%d", short(rt.Topic), rp.Partition, codeName(rp.ErrorCode), len(rp.ActiveProducers)))
			}
		}
		slices.Sort(lines)
		for _, l := range lines {
			f.add("%s", l)
		}
	})
}
