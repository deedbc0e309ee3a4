package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * A small Kafka Streams application, at-least-once: user actions are trimmed and lower-cased, blank
 * lines and comments dropped (stateless map/filter, to one output topic), and the actions counted
 * by name into a changelog-backed store (a repartition by the action, the count, its changelog, and
 * every update to a second output topic). What the application wrote, the internal topics it created
 * (with their configs) and its consumer group are compared.
 */
class StreamsTest {
  static final long BASE_TIMESTAMP = ProducerTest.BASE_TIMESTAMP;
  static final String[] ACTIONS = {" Click ", "VIEW", "", "# a comment", "buy", "click", "View ", "BUY", "click"};
  static final int USERS = 5;
  static final int RECORDS = 45;

  @Test
  void mapFilterAndCount() {
    String input = Side.name("streams-input");
    String filtered = Side.name("streams-filtered");
    String counts = Side.name("streams-counts");
    String application = Side.name("streams-app");
    String store = "action-counts";
    int expectedFiltered = 0;
    for (int i = 0; i < RECORDS; i++) {
      String v = ACTIONS[i % ACTIONS.length].trim().toLowerCase();
      if (!v.isEmpty() && !v.startsWith("#")) expectedFiltered++;
    }
    final int passing = expectedFiltered;

    SideBySide.Observed observed = SideBySide.compare("Kafka Streams map/filter/count", side -> {
      Map<String, Object> o = SideBySide.observation();
      Path stateDir = Files.createTempDirectory("java-compat-streams-" + side.name());
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(input, 2, (short) 1), new NewTopic(filtered, 2, (short) 1),
            new NewTopic(counts, 2, (short) 1)));
        try (var producer = side.producer(Map.of())) {
          for (int i = 0; i < RECORDS; i++) {
            producer.send(new ProducerRecord<>(input, null, BASE_TIMESTAMP + i, "user-" + (i % USERS), ACTIONS[i % ACTIONS.length]));
          }
          producer.flush();
        }

        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> cleaned = builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .mapValues(v -> v.trim().toLowerCase())
            .filter((user, action) -> !action.isEmpty() && !action.startsWith("#"));
        cleaned.to(filtered, Produced.with(Serdes.String(), Serdes.String()));
        cleaned.groupBy((user, action) -> action, Grouped.with("by-action", Serdes.String(), Serdes.String()))
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(store))
            .toStream()
            .to(counts, Produced.with(Serdes.String(), Serdes.Long()));

        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, application);
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, side.bootstrap());
        config.put(StreamsConfig.CLIENT_ID_CONFIG, "java-compat-streams-" + side.name());
        config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        // Every update of the count goes out (no record cache), so what is written does not depend on timing.
        config.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        config.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        try (KafkaStreams streams = new KafkaStreams(builder.build(), config)) {
          streams.start();
          Map<Integer, List<String>> filteredOut = read(side, filtered, 2, passing, false);
          Map<Integer, List<String>> countsOut = read(side, counts, 2, passing, true);
          o.put("state", streams.state());
          o.put("filtered", filteredOut);
          o.put("countUpdatesByAction", byKey(countsOut));
          o.put("groupWhileRunning", Groups.describe(admin, application));
          streams.close(Duration.ofSeconds(30));
          o.put("stateAfterClose", streams.state());
        }

        String changelog = application + "-" + store + "-changelog";
        String repartition = application + "-by-action-repartition";
        Map<Integer, List<String>> changelogContent = read(side, changelog, 2, -1, true);
        o.put("changelogLastValueByKey", lastByKey(changelogContent));
        Map<String, Object> internal = new TreeMap<>();
        Map<String, TopicDescription> described = Results.get(admin.describeTopics(List.of(changelog, repartition)).allTopicNames());
        for (String topic : List.of(changelog, repartition)) {
          internal.put(topic.substring(application.length()), Map.of(
              "partitions", described.get(topic).partitions().size(),
              "configs", AdminTest.changed(admin, new ConfigResource(ConfigResource.Type.TOPIC, topic))));
        }
        o.put("internalTopics", internal);
        o.put("groupAfterClose", Groups.describe(admin, application));
        o.put("committed", Groups.offsets(admin, application));
      } finally {
        try (Stream<Path> files = Files.walk(stateDir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      return o;
    });
    @SuppressWarnings("unchecked")
    Map<String, Object> kafka = (Map<String, Object>) observed.kafka();
    @SuppressWarnings("unchecked")
    Map<String, List<Long>> updates = (Map<String, List<Long>>) kafka.get("countUpdatesByAction");
    assertEquals(List.of("buy", "click", "view"), List.copyOf(updates.keySet()));
    assertEquals(passing, updates.values().stream().mapToInt(List::size).sum());
  }

  /**
   * The records of `topic` by partition as "key=value" (values as longs when `longs`), read from the
   * beginning until `expected` came (or, with -1, until the end offsets as they are when reading starts).
   */
  static Map<Integer, List<String>> read(Side side, String topic, int partitions, int expected, boolean longs) throws Exception {
    Map<Integer, List<String>> out = new TreeMap<>();
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
    Map<String, Object> config = Map.of(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
        longs ? org.apache.kafka.common.serialization.LongDeserializer.class : StringDeserializer.class);
    try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(withDefaults(side, config))) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long target = expected;
      if (expected < 0) target = consumer.endOffsets(tps).values().stream().mapToLong(Long::longValue).sum();
      int count = 0;
      long deadline = System.nanoTime() + Side.WAIT.toNanos();
      while (count < target && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, Object> r : consumer.poll(Duration.ofMillis(100))) {
          out.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.key() + "=" + r.value());
          count++;
        }
      }
      if (count < target) throw new AssertionError("read " + count + " of " + target + " records of " + topic + " within " + Side.WAIT);
    }
    return out;
  }

  static Properties withDefaults(Side side, Map<String, Object> extra) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, side.bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.putAll(extra);
    return p;
  }

  /** Per key, the values in the order they were written (one key lives in one partition). */
  static Map<String, List<Long>> byKey(Map<Integer, List<String>> records) {
    Map<String, List<Long>> out = new TreeMap<>();
    records.values().forEach(list -> list.forEach(kv -> {
      int eq = kv.lastIndexOf('=');
      out.computeIfAbsent(kv.substring(0, eq), k -> new ArrayList<>()).add(Long.parseLong(kv.substring(eq + 1)));
    }));
    return out;
  }

  static Map<String, Long> lastByKey(Map<Integer, List<String>> records) {
    Map<String, Long> out = new TreeMap<>();
    byKey(records).forEach((key, values) -> out.put(key, values.get(values.size() - 1)));
    return out;
  }
}
