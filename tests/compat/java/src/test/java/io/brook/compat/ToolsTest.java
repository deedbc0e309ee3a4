package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * Kafka's command-line tools (the main classes of bin/kafka-*.sh, from kafka-tools 4.4) run in this
 * JVM against both brokers; their exit codes and outputs are compared once what must differ is
 * rewritten: the bootstrap address, topic and member ids, timestamps, timings and rates.
 */
class ToolsTest {
  static final String TOPICS = "org.apache.kafka.tools.TopicCommand";
  static final String CONFIGS = "org.apache.kafka.tools.ConfigCommand";
  static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
  static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
  static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
  static final String GET_OFFSETS = "org.apache.kafka.tools.GetOffsetShell";
  static final String DELETE_RECORDS = "org.apache.kafka.tools.DeleteRecordsCommand";
  static final String PRODUCER_PERF = "org.apache.kafka.tools.ProducerPerformance";
  static final String CONSUMER_PERF = "org.apache.kafka.tools.ConsumerPerformance";
  static final String LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand";
  static final String TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand";

  /** The tool runs of one side's scenario, each as its command line, exit code and normalised output. */
  static final class Session {
    final Side side;
    final List<Object> runs = new ArrayList<>();
    /** Text of this side's that is shown as another (a temporary file's path). */
    final Map<String, String> aliases = new HashMap<>();

    Session(Side side) {
      this.side = side;
    }

    /** Runs `tool` with "--bootstrap-server <side>" and `args`; records and returns the normalised run. */
    Tools.Run run(String tool, String... args) throws Exception {
      return run(tool, "", UnaryOperator.identity(), args);
    }

    Tools.Run run(String tool, String stdin, UnaryOperator<String> normalise, String... args) throws Exception {
      List<String> command = new ArrayList<>(List.of("--bootstrap-server", side.bootstrap()));
      command.addAll(Arrays.asList(args));
      long started = System.nanoTime();
      Tools.Run raw = Tools.run(tool, stdin, command);
      String shown = tool.substring(tool.lastIndexOf('.') + 1) + " " + common(String.join(" ", args));
      long millis = (System.nanoTime() - started) / 1_000_000;
      if (millis > 3000) System.out.println("[" + side + "] " + shown + " took " + millis + " ms");
      Tools.Run run = new Tools.Run(raw.exitCode(), normalise.apply(common(raw.out())), normalise.apply(common(withoutFrames(raw.err()))));
      Map<String, Object> o = SideBySide.observation();
      o.put("command", shown);
      o.put("exit", run.exitCode());
      o.put("out", lines(run.out()));
      o.put("err", lines(run.err()));
      runs.add(o);
      return run;
    }

    /** What differs in every tool's output: this side's address, the broker's port, ids of topics and members. */
    String common(String text) {
      for (var alias : aliases.entrySet()) text = text.replace(alias.getKey(), alias.getValue());
      return text.replace(side.bootstrap(), "<bootstrap>")
          .replaceAll("127\\.0\\.0\\.1:\\d+", "127.0.0.1:<port>")
          .replaceAll("TopicId: ?[A-Za-z0-9_-]{22}", "TopicId: <id>")
          .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>");
    }
  }

  /** A stack trace's exception lines, without its frames (which include this harness's own). */
  static String withoutFrames(String text) {
    return text.lines().filter(l -> !l.strip().startsWith("at ") && !l.strip().matches("\\.\\.\\. \\d+ more"))
        .map(l -> l + "\n").reduce("", String::concat);
  }

  static List<String> lines(String text) {
    if (text.isBlank()) return List.of();
    // Columns are padded to their widest value, which may be an id: single spaces compare.
    return text.lines().map(l -> l.strip().replaceAll("[ \\t]+", " ")).filter(l -> !l.isEmpty()).toList();
  }

  /** kafka-log-dirs prints each directory's partitions in hash order: sorted, they compare. */
  static String sortPartitions(String json) {
    Matcher m = Pattern.compile("\"partitions\":\\[(.*?)\\]").matcher(json);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      List<String> items = new ArrayList<>(List.of(m.group(1).split("(?<=\\}),(?=\\{)")));
      Collections.sort(items);
      m.appendReplacement(out, Matcher.quoteReplacement("\"partitions\":[" + String.join(",", items) + "]"));
    }
    m.appendTail(out);
    return out.toString();
  }

  static List<String> sorted(List<String> lines) {
    return lines.stream().sorted().toList();
  }

  static void createTopic(Side side, String topic, int partitions) throws Exception {
    Topics.create(side, topic, partitions);
  }

  /** After a tool changed a topic: waits until the change shows (see Topics), when the tool succeeded. */
  static void awaitPartitions(Session s, Tools.Run run, String topic, int partitions) throws Exception {
    if (run.exitCode() != 0) return;
    try (Admin admin = s.side.admin()) {
      Topics.awaitPartitions(admin, topic, partitions);
    }
  }

  static void awaitConfig(Session s, Tools.Run run, String topic, String name, String value) throws Exception {
    if (run.exitCode() != 0) return;
    try (Admin admin = s.side.admin()) {
      Topics.awaitConfig(admin, topic, name, value);
    }
  }

  static void produce(Side side, String topic, int count, String prefix) throws Exception {
    try (var producer = side.producer(Map.of())) {
      for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, prefix + "-key-" + i, prefix + "-value-" + i));
      producer.flush();
    }
  }

  @Test
  void kafkaTopics() {
    String topic = Side.name("tools-topics");
    SideBySide.compare("kafka-topics", side -> {
      Session s = new Session(side);
      awaitPartitions(s, s.run(TOPICS, "--create", "--topic", topic, "--partitions", "2", "--replication-factor", "1",
          "--config", "retention.ms=3600000", "--config", "cleanup.policy=compact"), topic, 2);
      s.run(TOPICS, "--create", "--topic", topic, "--partitions", "2", "--replication-factor", "1");
      s.run(TOPICS, "--create", "--if-not-exists", "--topic", topic, "--partitions", "2");
      s.run(TOPICS, "--create", "--topic", topic + "-rf3", "--partitions", "1", "--replication-factor", "3");
      s.run(TOPICS, "--create", "--topic", topic + "-bad", "--partitions", "1", "--config", "retention.ms=soon");
      awaitPartitions(s, s.run(TOPICS, "--create", "--topic", topic + "-assigned", "--replica-assignment", "1,1,1"),
          topic + "-assigned", 3);
      Tools.Run listed = Tools.run(TOPICS, "", List.of("--bootstrap-server", side.bootstrap(), "--list"));
      s.runs.add(Map.of("list", lines(listed.out()).stream().filter(l -> l.startsWith("java-tools-topics-") && l.contains(Side.RUN)).toList(),
          "exit", listed.exitCode()));
      s.run(TOPICS, "--describe", "--topic", topic);
      s.run(TOPICS, "--describe", "--topic", topic + "-assigned");
      awaitPartitions(s, s.run(TOPICS, "--alter", "--topic", topic, "--partitions", "3"), topic, 3);
      s.run(TOPICS, "--alter", "--topic", topic, "--partitions", "2");
      s.run(TOPICS, "--describe", "--topic", topic);
      s.run(TOPICS, "--describe", "--topic", topic, "--under-replicated-partitions");
      s.run(TOPICS, "--describe", "--topic", topic, "--unavailable-partitions");
      s.run(TOPICS, "--describe", "--topic", topic, "--topics-with-overrides");
      s.run(TOPICS, "--delete", "--topic", topic);
      s.run(TOPICS, "--delete", "--topic", topic + "-assigned");
      Results.await("the deleted topic to disappear", () -> {
        try {
          return !Tools.run(TOPICS, "", List.of("--bootstrap-server", side.bootstrap(), "--list")).out().contains(topic + "\n");
        } catch (Exception e) {
          return false;
        }
      });
      s.run(TOPICS, "--describe", "--topic", topic);
      s.run(TOPICS, "--delete", "--topic", topic);
      s.run(TOPICS, "--delete", "--if-exists", "--topic", topic);
      return s.runs;
    });
  }

  @Test
  void kafkaConfigs() {
    String topic = Side.name("tools-configs");
    SideBySide.compare("kafka-configs", side -> {
      Session s = new Session(side);
      createTopic(side, topic, 1);
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--describe");
      Tools.Run added = s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--alter", "--add-config",
          "retention.ms=1000,max.message.bytes=20000");
      awaitConfig(s, added, topic, "retention.ms", "1000");
      awaitConfig(s, added, topic, "max.message.bytes", "20000");
      awaitConfig(s, s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--alter", "--add-config",
          "cleanup.policy=[compact,delete]"), topic, "cleanup.policy", "compact,delete");
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--describe");
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--describe", "--all");
      awaitConfig(s, s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--alter", "--delete-config", "retention.ms"),
          topic, "retention.ms", null);
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--alter", "--add-config", "java.no.such.config=1");
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", topic, "--describe");
      s.run(CONFIGS, "--entity-type", "topics", "--entity-name", Side.name("tools-configs-none"), "--describe");
      s.run(CONFIGS, "--entity-type", "brokers", "--entity-name", "1", "--describe");
      s.run(CONFIGS, "--entity-type", "brokers", "--entity-default", "--describe");
      // A per-broker dynamic config of the shared Kafka, set and removed again within this scenario: one
      // that changes nothing another suite could observe (the log cleaner's idle back-off).
      // Kafka applies a dynamic broker config asynchronously: the describe is repeated until it shows the change.
      Tools.Run set = s.run(CONFIGS, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "log.cleaner.backoff.ms=16000");
      describeBrokerUntil(s, set.exitCode() != 0 ? null : "log.cleaner.backoff.ms=16000 ");
      Tools.Run unset = s.run(CONFIGS, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--delete-config", "log.cleaner.backoff.ms");
      describeBrokerUntil(s, unset.exitCode() != 0 ? null : "");
      // The full broker listing differs in which settings exist; these are the ones clients depend on.
      Tools.Run all = Tools.run(CONFIGS, "", List.of("--bootstrap-server", side.bootstrap(), "--entity-type", "brokers",
          "--entity-name", "1", "--describe", "--all"));
      List<String> wanted = List.of("num.partitions=", "default.replication.factor=", "auto.create.topics.enable=",
          "message.max.bytes=", "log.retention.hours=", "log.segment.bytes=", "group.initial.rebalance.delay.ms=",
          "offsets.topic.replication.factor=", "compression.type=");
      s.runs.add(Map.of("brokerAll", lines(all.out()).stream().filter(l -> wanted.stream().anyMatch(l::startsWith)).toList(),
          "exit", all.exitCode()));
      return s.runs;
    });
  }

  /** Describes broker 1's dynamic configs until the output holds `expected` ("" for none of them; null: at once). */
  static void describeBrokerUntil(Session s, String expected) throws Exception {
    List<String> args = List.of("--bootstrap-server", s.side.bootstrap(), "--entity-type", "brokers", "--entity-name", "1", "--describe");
    if (expected != null) {
      Results.await("broker 1's dynamic configs to show " + (expected.isEmpty() ? "nothing" : expected), () -> {
        try {
          String out = Tools.run(CONFIGS, "", args).out();
          return expected.isEmpty() ? !out.contains("log.cleaner.backoff.ms") : out.contains(expected);
        } catch (Exception e) {
          return false;
        }
      });
    }
    s.run(CONFIGS, "--entity-type", "brokers", "--entity-name", "1", "--describe");
  }

  @Test
  void consoleProducerConsumerAndConsumerGroups() {
    String topic = Side.name("tools-console");
    String group = Side.name("tools-console-group");
    String active = Side.name("tools-active-group");
    // The console consumer prints CreateTime:<epoch ms> of the console producer's records: the time of the run.
    UnaryOperator<String> times = text -> text.replaceAll("CreateTime:\\d+", "CreateTime:<time>");
    SideBySide.Observed observed = SideBySide.compare("console producer, console consumer, kafka-consumer-groups", side -> {
      Session s = new Session(side);
      createTopic(side, topic, 2);
      s.run(CONSOLE_PRODUCER, "alpha:1\nbeta:2\ngamma:3\ndelta:4\nepsilon:5\nzeta:6\n", UnaryOperator.identity(),
          "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:", "--producer-property", "acks=all");
      Tools.Run consumed = s.run(CONSOLE_CONSUMER, "", times, "--topic", topic, "--from-beginning", "--max-messages", "6",
          "--group", group, "--timeout-ms", "20000", "--property", "print.key=true", "--property", "print.partition=true",
          "--property", "print.offset=true", "--property", "print.timestamp=true", "--property", "key.separator=|");
      // Two partitions are read in no fixed order: each partition's records in order is what compares.
      s.runs.set(s.runs.size() - 1, Map.of("consumedSorted", sorted(lines(consumed.out())), "err", lines(consumed.err()),
          "exit", consumed.exitCode()));
      // From offset 1 of the partition holding most of the six keys (the default partitioner's murmur2),
      // exactly as many records as it holds after that offset: the consumer ends without waiting.
      int[] perPartition = new int[2];
      for (String key : List.of("alpha", "beta", "gamma", "delta", "epsilon", "zeta")) {
        perPartition[Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 2]++;
      }
      int fuller = perPartition[0] >= perPartition[1] ? 0 : 1;
      s.run(CONSOLE_CONSUMER, "", times, "--topic", topic, "--partition", String.valueOf(fuller), "--offset", "1",
          "--max-messages", String.valueOf(perPartition[fuller] - 1), "--timeout-ms", "20000",
          "--property", "print.key=true", "--property", "print.offset=true");
      produce(side, topic, 4, "later");

      s.run(CONSUMER_GROUPS, "--describe", "--group", group);
      s.run(CONSUMER_GROUPS, "--describe", "--group", group, "--state");
      s.run(CONSUMER_GROUPS, "--describe", "--group", group, "--members");
      s.run(CONSUMER_GROUPS, "--describe", "--group", group, "--offsets");
      Tools.Run listed = Tools.run(CONSUMER_GROUPS, "", List.of("--bootstrap-server", side.bootstrap(), "--list"));
      // Only this scenario's groups: the shared Kafka has every suite's, and this suite's other scenarios run meanwhile.
      s.runs.add(Map.of("list", sorted(lines(listed.out()).stream().filter(l -> l.equals(group) || l.startsWith(active)).toList()),
          "exit", listed.exitCode()));
      s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--dry-run");
      s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute");
      s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", group, "--topic", topic + ":1", "--to-offset", "2", "--execute");
      s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", group, "--topic", topic, "--shift-by", "3", "--execute");
      s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", group, "--all-topics", "--to-latest", "--execute");
      s.run(CONSUMER_GROUPS, "--describe", "--group", group);

      // A group with active members of each protocol.
      for (String protocol : List.of("classic", "consumer")) {
        String g = active + "-" + protocol;
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, g);
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "java-tools-consumer");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, String> consumer = side.consumer(config)) {
          consumer.subscribe(List.of(topic));
          Results.await("the " + protocol + " consumer's assignment", () -> {
            consumer.poll(Duration.ofMillis(100));
            return consumer.assignment().size() == 2;
          });
          consumer.commitSync(Map.of(new org.apache.kafka.common.TopicPartition(topic, 0),
              new org.apache.kafka.clients.consumer.OffsetAndMetadata(1)));
          UnaryOperator<String> memberIds = text -> text.replaceAll("(?m)^(java-tools-active\\S+ +\\S+ +\\S+ +\\S+ +\\S+ +\\S+ +)\\S+", "$1<member>")
              .replaceAll("(?m)^(java-tools-active\\S+ +)[A-Za-z0-9_-]{22}( )", "$1<member>$2")
              .replaceAll("java-tools-consumer-<uuid>", "<member>");
          s.run(CONSUMER_GROUPS, "", memberIds, "--describe", "--group", g);
          s.run(CONSUMER_GROUPS, "", memberIds, "--describe", "--group", g, "--members", "--verbose");
          s.run(CONSUMER_GROUPS, "", memberIds, "--describe", "--group", g, "--state", "--verbose");
          s.run(CONSUMER_GROUPS, "--reset-offsets", "--group", g, "--topic", topic, "--to-earliest", "--execute");
          s.run(CONSUMER_GROUPS, "--delete", "--group", g);
        }
        s.run(CONSUMER_GROUPS, "--delete-offsets", "--group", g, "--topic", topic);
        s.run(CONSUMER_GROUPS, "--delete", "--group", g);
      }
      s.run(CONSUMER_GROUPS, "--delete-offsets", "--group", group, "--topic", topic + ":0");
      s.run(CONSUMER_GROUPS, "--describe", "--group", group, "--offsets");
      s.run(CONSUMER_GROUPS, "--delete", "--group", group);
      s.run(CONSUMER_GROUPS, "--describe", "--group", group);
      s.run(CONSUMER_GROUPS, "--delete", "--group", group);
      return s.runs;
    });
    assertTrue(observed.kafka().toString().contains("Processed a total of 6 messages"), observed.kafka().toString());
  }

  @Test
  void getOffsetsDeleteRecordsAndLogDirs() {
    String topic = Side.name("tools-offsets");
    SideBySide.compare("kafka-get-offsets, kafka-delete-records, kafka-log-dirs", side -> {
      Session s = new Session(side);
      createTopic(side, topic, 2);
      // One record a batch (each send awaited), so that kafka-log-dirs' sizes do not depend on how the
      // producer happened to batch on either side.
      try (var producer = side.producer(Map.of())) {
        for (int i = 0; i < 10; i++)
          producer.send(new ProducerRecord<>(topic, i % 2, ProducerTest.BASE_TIMESTAMP + 100L * i, "k" + i, "v" + i)).get();
      }
      s.run(GET_OFFSETS, "--topic", topic);
      s.run(GET_OFFSETS, "--topic", topic, "--time", "-2");
      s.run(GET_OFFSETS, "--topic", topic, "--time", "earliest");
      s.run(GET_OFFSETS, "--topic", topic, "--time", "max-timestamp");
      s.run(GET_OFFSETS, "--topic", topic, "--time", String.valueOf(ProducerTest.BASE_TIMESTAMP + 450));
      s.run(GET_OFFSETS, "--topic-partitions", topic + ":1");
      s.run(GET_OFFSETS, "--topic", Side.name("tools-offsets-none"));

      Path json = Files.createTempFile("java-compat-delete-records", ".json");
      try {
        Files.writeString(json, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic + "\",\"partition\":0,\"offset\":2},"
            + "{\"topic\":\"" + topic + "\",\"partition\":1,\"offset\":-1}]}");
        s.aliases.put(json.toString(), "<offsets.json>");
        s.run(DELETE_RECORDS, "", UnaryOperator.identity(), "--offset-json-file", json.toString());
        Files.writeString(json, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic + "\",\"partition\":0,\"offset\":99}]}");
        s.run(DELETE_RECORDS, "", UnaryOperator.identity(), "--offset-json-file", json.toString());
      } finally {
        Files.deleteIfExists(json);
      }
      s.run(GET_OFFSETS, "--topic", topic, "--time", "-2");

      // The log directory's path differs; its partitions, sizes and lags compare.
      s.run(LOG_DIRS, "", text -> sortPartitions(text.replaceAll("\"logDir\":\"[^\"]*\"", "\"logDir\":\"<dir>\"")),
          "--describe", "--topic-list", topic);
      return s.runs;
    });
  }

  /**
   * Replaces the whitespace-separated columns `columns` of a table's rows (not its header) with
   * `<name>`: producer ids and times differ between brokers.
   */
  static UnaryOperator<String> columns(Map<Integer, String> columns) {
    return text -> text.lines().map(line -> {
      if (line.isBlank() || line.contains("ProducerId")) return line + "\n";  // the header
      String[] cells = line.strip().split("[ \\t]+");
      for (var c : columns.entrySet())
        if (c.getKey() < cells.length) cells[c.getKey()] = "<" + c.getValue() + ">";
      return String.join(" ", cells) + "\n";
    }).reduce("", String::concat);
  }

  /** The header and the rows that mention `id`. */
  static UnaryOperator<String> rowsOf(String id) {
    return text -> text.lines().filter(l -> l.contains("TransactionalId") || l.contains(id)).map(l -> l + "\n")
        .reduce("", String::concat);
  }

  @Test
  void kafkaTransactions() {
    String topic = Side.name("tools-txn");
    String transactionalId = Side.name("tools-txn-id");
    SideBySide.compare("kafka-transactions: list, describe, describe-producers, find-hanging, abort", side -> {
      Session s = new Session(side);
      createTopic(side, topic, 2);
      try (var producer = side.producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
          ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60000))) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, ProducerTest.BASE_TIMESTAMP, "a", "open-0")).get();
        producer.send(new ProducerRecord<>(topic, 1, ProducerTest.BASE_TIMESTAMP + 1, "b", "open-1")).get();

        // Producer ids, times and durations differ between the brokers; the rest compares.
        s.run(TRANSACTIONS, "", rowsOf(transactionalId).andThen(columns(Map.of(2, "producer id")))::apply, "list");
        s.run(TRANSACTIONS, "", columns(Map.of(2, "producer id", 6, "start time", 7, "duration")), "describe",
            "--transactional-id", transactionalId);
        UnaryOperator<String> producers = columns(Map.of(0, "producer id"));
        s.run(TRANSACTIONS, "", producers, "describe-producers", "--topic", topic, "--partition", "0");
        // The coordinator knows this transaction: it is open, not hanging.
        s.run(TRANSACTIONS, "", producers, "find-hanging", "--topic", topic, "--max-transaction-timeout", "0");
        // What an operator does with a hanging transaction: abort it where it holds the partition.
        s.run(TRANSACTIONS, "abort", "--topic", topic, "--partition", "0", "--start-offset", "0");
        // The abort marker, written now, is the producer's last timestamp.
        s.run(TRANSACTIONS, "", columns(Map.of(0, "producer id", 4, "marker time")), "describe-producers", "--topic",
            topic, "--partition", "0");
        s.run(TRANSACTIONS, "abort", "--topic", topic, "--partition", "0", "--start-offset", "0");

        // The producer's commit still ends its transaction: partition 1's record commits, partition 0's
        // was aborted.
        producer.commitTransaction();
      }
      Map<String, Object> o = SideBySide.observation();
      o.put("tools", s.runs);
      o.put("readCommitted", TransactionsTest.read(side, topic, 2, "read_committed", 1));
      s.run(TRANSACTIONS, "", columns(Map.of(2, "producer id", 6, "start time", 7, "duration")), "describe",
          "--transactional-id", transactionalId);

      // forceTerminateTransaction (KIP-939) initialises the id anew: the open transaction is aborted and
      // its producer fenced.
      try (var producer = side.producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
          ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60000))) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, ProducerTest.BASE_TIMESTAMP + 2, "c", "terminated")).get();
        s.run(TRANSACTIONS, "forceTerminateTransaction", "--transactionalId", transactionalId);
        String outcome;
        try {
          producer.commitTransaction();
          outcome = "committed";
        } catch (Exception e) {
          outcome = Results.errorName(e);
        }
        o.put("commitAfterForceTerminate", outcome);
      }
      o.put("readCommittedAfterForceTerminate", TransactionsTest.read(side, topic, 2, "read_committed", 1));
      return o;
    });
  }

  @Test
  void perfTests() {
    String topic = Side.name("tools-perf");
    String groupId = Side.name("tools-perf-group");
    // Timings and rates differ from run to run: counts and sizes compare.
    UnaryOperator<String> producerStats = text -> text.replaceAll(
        "(\\d+) records sent, [0-9.]+ records/sec \\([0-9.]+ MB/sec\\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency(, \\d+ ms 50th, \\d+ ms 95th, \\d+ ms 99th, \\d+ ms 99.9th)?\\.?",
        "$1 records sent");
    SideBySide.Observed observed = SideBySide.compare("kafka-producer-perf-test, kafka-consumer-perf-test", side -> {
      Session s = new Session(side);
      createTopic(side, topic, 2);
      Tools.Run produced = Tools.run(PRODUCER_PERF, "", List.of("--bootstrap-server", side.bootstrap(), "--topic", topic,
          "--num-records", "3000", "--record-size", "200", "--throughput", "-1",
          "--producer-props", "acks=all", "linger.ms=5", "compression.type=lz4"));
      // Progress lines come every 5 s, as many as the run lasts: the final summary compares.
      List<String> summary = lines(producerStats.apply(produced.out())).stream().filter(l -> l.endsWith("records sent")).toList();
      s.runs.add(Map.of("producerPerf", summary.isEmpty() ? List.of() : List.of(summary.get(summary.size() - 1)),
          "err", lines(produced.err()), "exit", produced.exitCode()));
      Tools.Run consumed = Tools.run(CONSUMER_PERF, "", List.of("--bootstrap-server", side.bootstrap(), "--topic", topic,
          "--num-records", "3000", "--group", groupId, "--timeout", "20000", "--hide-header"));
      // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
      // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec: the amounts compare.
      List<String> amounts = new ArrayList<>();
      for (String line : lines(consumed.out())) {
        String[] fields = line.split(", ");
        amounts.add(fields.length >= 5 ? "MB=" + fields[2] + " records=" + fields[4] : line);
      }
      s.runs.add(Map.of("consumerPerf", amounts, "err", lines(consumed.err()), "exit", consumed.exitCode()));
      // The records carry no key: the sticky partitioner spreads them at random, so totals compare.
      Tools.Run offsets = Tools.run(GET_OFFSETS, "", List.of("--bootstrap-server", side.bootstrap(), "--topic", topic));
      s.runs.add(Map.of("endOffsetsTotal", lines(offsets.out()).stream().mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(':') + 1))).sum(),
          "exit", offsets.exitCode()));
      Tools.Run group = Tools.run(CONSUMER_GROUPS, "", List.of("--bootstrap-server", side.bootstrap(), "--describe", "--group", groupId, "--offsets"));
      long committed = 0;
      long lag = 0;
      for (String line : lines(group.out())) {
        String[] f = line.split(" ");
        if (f.length >= 6 && f[0].equals(groupId)) {
          committed += Long.parseLong(f[3]);
          lag += Long.parseLong(f[5]);
        }
      }
      s.runs.add(Map.of("groupCommittedTotal", committed, "groupLagTotal", lag, "exit", group.exitCode()));
      return s.runs;
    });
    assertTrue(observed.kafka().toString().contains("3000 records sent"), observed.kafka().toString());
  }
}
