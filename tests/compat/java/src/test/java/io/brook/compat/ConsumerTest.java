package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A subscribed consumer of each group protocol (classic, and KIP-848's consumer), then what the admin
 * client sees of its group while it is a member, after it left, and after offsets change or go.
 */
class ConsumerTest {
  static final int PARTITIONS = 3;
  static final int RECORDS = 30;
  static final long BASE_TIMESTAMP = ProducerTest.BASE_TIMESTAMP;

  @ParameterizedTest(name = "group.protocol={0}")
  @ValueSource(strings = {"classic", "consumer"})
  void subscribedConsumerAndItsGroup(String protocol) {
    String topic = Side.name("group-" + protocol);
    String group = topic;
    SideBySide.Observed observed = SideBySide.compare("consumer, group.protocol=" + protocol, side -> {
      Map<String, Object> o = SideBySide.observation();
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) tps.add(new TopicPartition(topic, p));
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, PARTITIONS, (short) 1)));
        try (var producer = side.producer(Map.of())) {
          for (int i = 0; i < RECORDS; i++) {
            producer.send(new ProducerRecord<>(topic, null, BASE_TIMESTAMP + 10L * i, "key-" + i, "value-" + i));
          }
          producer.flush();
        }

        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "java-compat-" + protocol);
        if (protocol.equals("classic")) {
          config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
          config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10000);
        }
        try (KafkaConsumer<String, String> consumer = side.consumer(config)) {
          consumer.subscribe(List.of(topic));
          Map<Integer, List<String>> received = new TreeMap<>();
          int count = 0;
          long deadline = System.nanoTime() + Side.WAIT.toNanos();
          while (count < RECORDS && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
              received.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset() + ":" + r.key());
              count++;
            }
          }
          o.put("received", received);
          o.put("assignment", consumer.assignment().stream().map(TopicPartition::toString).sorted().toList());
          var metadata = consumer.groupMetadata();
          o.put("groupMetadata", Map.of("groupId", metadata.groupId(), "generationPositive", metadata.generationId() > 0,
              "hasMemberId", !metadata.memberId().isEmpty(), "groupInstanceId", metadata.groupInstanceId()));

          consumer.commitSync();
          o.put("committed", committed(consumer, tps));
          consumer.commitSync(Map.of(tps.get(0), new OffsetAndMetadata(5, "java-meta")));
          o.put("committedWithMetadata", committed(consumer, tps));

          consumer.seek(tps.get(0), 2);
          List<String> afterSeek = new ArrayList<>();
          Results.await("records of partition 0 after the seek", () -> {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
            for (ConsumerRecord<String, String> r : records.records(tps.get(0))) afterSeek.add(r.offset() + ":" + r.key());
            return !afterSeek.isEmpty();
          });
          o.put("afterSeekTo2", afterSeek);
          consumer.seekToBeginning(tps);
          o.put("positionAfterSeekToBeginning", positions(consumer, tps));
          consumer.seekToEnd(tps);
          o.put("positionAfterSeekToEnd", positions(consumer, tps));

          Map<String, Object> times = SideBySide.observation();
          for (long at : new long[] {0, 55, 145, 10_000}) {
            Map<TopicPartition, Long> query = new HashMap<>();
            for (TopicPartition tp : tps) query.put(tp, BASE_TIMESTAMP + at);
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, Duration.ofMillis(Side.WAIT.toMillis()));
            Map<String, Object> byPartition = new TreeMap<>();
            found.forEach((tp, ot) -> byPartition.put(tp.toString(), ot == null ? "none"
                : ot.offset() + " at +" + (ot.timestamp() - BASE_TIMESTAMP) + "ms leaderEpoch=" + Groups.present(ot.leaderEpoch())));
            times.put("+" + at + "ms", byPartition);
          }
          o.put("offsetsForTimes", times);
          o.put("beginningOffsets", new TreeMap<>(keyed(consumer.beginningOffsets(tps))));
          o.put("endOffsets", new TreeMap<>(keyed(consumer.endOffsets(tps))));

          // The group while its member is active.
          o.put("describedWhileActive", Groups.describe(admin, group));
          o.put("listedWhileActive", Groups.listed(admin, group));
          o.put("offsetsWhileActive", Groups.offsets(admin, group));
          o.put("deleteGroupWhileActive", Results.outcome(() -> Results.get(admin.deleteConsumerGroups(List.of(group)).all())));
          o.put("alterOffsetsWhileActive", Results.outcome(() -> Results.get(
              admin.alterConsumerGroupOffsets(group, Map.of(tps.get(1), new OffsetAndMetadata(1))).all())));
          o.put("deleteOffsetsOfSubscribedTopic", Results.outcome(() -> Results.get(
              admin.deleteConsumerGroupOffsets(group, Set.of(tps.get(2))).all())));
        }

        // Once the member left.
        Results.await("the group to be empty", () -> Groups.describe(admin, group).toString().contains("state=Empty"));
        o.put("describedAfterClose", Groups.describe(admin, group));
        o.put("listedAfterClose", Groups.listed(admin, group));
        o.put("alterOffsets", Results.outcome(() -> Results.get(
            admin.alterConsumerGroupOffsets(group, Map.of(tps.get(1), new OffsetAndMetadata(1, "altered"))).all())));
        o.put("offsetsAfterAlter", Groups.offsets(admin, group));
        o.put("deleteOffsets", Results.outcome(() -> Results.get(admin.deleteConsumerGroupOffsets(group, Set.of(tps.get(2))).all())));
        o.put("offsetsAfterDelete", Groups.offsets(admin, group));
        o.put("deleteGroup", Results.outcome(() -> Results.get(admin.deleteConsumerGroups(List.of(group)).all())));
        o.put("describedAfterDelete", Groups.describe(admin, group));
        o.put("listedAfterDelete", Groups.listed(admin, group));
        o.put("deleteGroupAgain", Results.outcome(() -> Results.get(admin.deleteConsumerGroups(List.of(group)).all())));
      }
      return o;
    });
    @SuppressWarnings("unchecked")
    Map<String, Object> kafka = (Map<String, Object>) observed.kafka();
    assertEquals(List.of(topic + "-0", topic + "-1", topic + "-2"), kafka.get("assignment"));
  }

  static Map<String, Object> committed(KafkaConsumer<String, String> consumer, List<TopicPartition> tps) {
    Map<String, Object> o = new TreeMap<>();
    consumer.committed(Set.copyOf(tps), Duration.ofMillis(Side.WAIT.toMillis())).forEach((tp, om) ->
        o.put(tp.toString(), om == null ? "none" : om.offset() + " metadata=" + om.metadata() + " leaderEpoch=" + Groups.present(om.leaderEpoch())));
    return o;
  }

  static Map<String, Long> positions(KafkaConsumer<String, String> consumer, List<TopicPartition> tps) {
    Map<String, Long> o = new TreeMap<>();
    for (TopicPartition tp : tps) o.put(tp.toString(), consumer.position(tp, Duration.ofMillis(Side.WAIT.toMillis())));
    return o;
  }

  static <V> Map<String, V> keyed(Map<TopicPartition, V> map) {
    Map<String, V> o = new TreeMap<>();
    map.forEach((tp, v) -> o.put(tp.toString(), v));
    return o;
  }
}
