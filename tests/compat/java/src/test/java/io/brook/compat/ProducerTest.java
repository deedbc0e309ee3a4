package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The idempotent producer with every compression codec, and what a consumer then reads back. */
class ProducerTest {
  static final int PARTITIONS = 3;
  static final int RECORDS = 40;
  /** The records' timestamps: the same on both sides, recent enough for the default retention. */
  static final long BASE_TIMESTAMP = (System.currentTimeMillis() / 1000) * 1000;

  @ParameterizedTest(name = "compression.type={0}")
  @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
  void idempotentProducerWithEveryCodec(String codec) {
    String topic = Side.name("codec-" + codec);
    SideBySide.Observed observed = SideBySide.compare("idempotent producer, " + codec, side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, PARTITIONS, (short) 1)));
      }
      List<Map<String, Object>> sent = new ArrayList<>();
      try (var producer = side.producer(Map.of(
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.COMPRESSION_TYPE_CONFIG, codec,
          ProducerConfig.LINGER_MS_CONFIG, 20,
          "max.in.flight.requests.per.connection", 5))) {
        List<PartitionInfo> partitions = producer.partitionsFor(topic);
        o.put("partitionsFor", partitions.stream()
            .map(p -> Map.of("partition", p.partition(), "replicas", p.replicas().length, "isr", p.inSyncReplicas().length,
                "leaderIsAReplica", p.leader() != null && p.replicas()[0].id() == p.leader().id()))
            .sorted((a, b) -> (Integer) a.get("partition") - (Integer) b.get("partition")).toList());
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
          // Compressible values of a few hundred bytes, a header on every third record.
          String value = ("value " + i + " ").repeat(20 + i);
          List<Header> headers = i % 3 == 0
              ? List.of(new RecordHeader("h" + i, ("header " + i).getBytes(StandardCharsets.UTF_8)))
              : List.of();
          futures.add(producer.send(new ProducerRecord<>(topic, null, BASE_TIMESTAMP + i, "key-" + i, value, headers)));
        }
        producer.flush();
        for (int i = 0; i < RECORDS; i++) {
          RecordMetadata m = futures.get(i).get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS);
          Map<String, Object> s = SideBySide.observation();
          s.put("key", "key-" + i);
          s.put("partition", m.partition());
          s.put("offset", m.offset());
          s.put("timestamp", m.timestamp() - BASE_TIMESTAMP);
          s.put("serializedValueSize", m.serializedValueSize());
          sent.add(s);
        }
      }
      o.put("sent", sent);
      o.put("readBack", readAll(side, topic, PARTITIONS, RECORDS));
      return o;
    });
    // Kafka's own answer as a reference point: every record acknowledged, spread over the partitions.
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> sent = (List<Map<String, Object>>) ((Map<String, Object>) observed.kafka()).get("sent");
    assertEquals(RECORDS, sent.size());
    assertEquals(Set.of(0, 1, 2), Set.copyOf(sent.stream().map(s -> s.get("partition")).toList()));
  }

  /**
   * Every record of the topic by partition (offset, key, value, timestamp and its type, headers, leader
   * epoch), read from the beginning by an assigned consumer until `expected` came, and the end offsets.
   */
  static Map<String, Object> readAll(Side side, String topic, int partitions, int expected) throws Exception {
    Map<Integer, List<Map<String, Object>>> byPartition = new TreeMap<>();
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
    try (var consumer = side.consumer(Map.of())) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      int count = 0;
      long deadline = System.nanoTime() + Side.WAIT.toNanos();
      while (count < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          Map<String, Object> record = SideBySide.observation();
          record.put("offset", r.offset());
          record.put("key", r.key());
          record.put("value", r.value() == null ? null : r.value().length() + " chars, hash " + r.value().hashCode());
          record.put("timestamp", r.timestamp() - BASE_TIMESTAMP);
          record.put("timestampType", r.timestampType());
          List<String> headers = new ArrayList<>();
          for (Header h : r.headers()) headers.add(h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8));
          record.put("headers", headers);
          record.put("leaderEpoch", r.leaderEpoch());
          byPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(record);
          count++;
        }
      }
      Map<Integer, Long> ends = new TreeMap<>();
      consumer.endOffsets(tps).forEach((tp, offset) -> ends.put(tp.partition(), offset));
      Map<String, Object> o = SideBySide.observation();
      o.put("records", byPartition);
      o.put("endOffsets", ends);
      return o;
    }
  }
}
