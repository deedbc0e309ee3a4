package io.brook.compat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams exactly_once_v2 through crashes: a count by key (StreamsExactlyOnceApp, in a JVM of its
 * own) is killed with SIGKILL three times while input is still coming, each time while it has a
 * transaction open with records in the log, and started again on the same state directory (so with the
 * same transactional id, whose InitProducerId aborts the dead incarnation's transaction); the fourth
 * incarnation runs to the end. Read committed, the output then holds for each key exactly the counts
 * 1, 2, ... n in order (n the key's input records: nothing lost, nothing counted twice), so does the
 * changelog, and the group's committed offsets are the input's end offsets.
 */
class StreamsExactlyOnceTest {
  static final int PARTITIONS = 3;
  static final int KEYS = 12;
  static final int KILLS = 3;
  /**
   * The input, SEGMENT * (KILLS + 1) records: incarnation i may be killed once i + 1/2 segments are out,
   * and the input stops at i + 3/2 segments until the next incarnation processes, so that a kill always
   * finds input still coming (it comes for at least a segment after the incarnation started processing;
   * should that not be enough on a slow machine, it goes on up to i + 7/4 segments).
   */
  static final int SEGMENT = 400;
  static final int RECORDS = SEGMENT * (KILLS + 1);
  /** What goes out as soon as an incarnation is started, if the input did not get further already. */
  static final int LEAD = SEGMENT / 5;
  /** Input pacing: BATCH records every TICK_MS (250 records a second), so that processing goes on for a while. */
  static final int BATCH = 10;
  static final long TICK_MS = 40;
  /** The whole scenario on one side, CI's slowest machines included (SideBySide gives up at 120 s). */
  static final Duration BUDGET = Duration.ofSeconds(105);

  /** The key of input record i: a fixed pseudo-random sequence, skewed so that the keys' counts differ. */
  static String[] keys() {
    Random random = new Random(20261207L);
    String[] keys = new String[RECORDS];
    for (int i = 0; i < RECORDS; i++) keys[i] = "key-" + Math.min(random.nextInt(KEYS), random.nextInt(KEYS));
    return keys;
  }

  @Test
  void countsAreExactAfterKillsAndRestarts() {
    String[] keys = keys();
    Map<String, Long> expected = new TreeMap<>();
    for (String key : keys) expected.merge(key, 1L, Long::sum);
    String input = Side.name("eos-input");
    String output = Side.name("eos-counts");
    String application = Side.name("eos-app");

    SideBySide.compare("Kafka Streams exactly_once_v2 killed and restarted", side -> {
      Map<String, Object> o = SideBySide.observation();
      long started = System.nanoTime();
      long deadline = started + BUDGET.toNanos();
      Path stateDir = Files.createTempDirectory("java-compat-streams-eos-" + side.name());
      Path log = logFile(side);
      Files.deleteIfExists(log);
      List<TopicPartition> inputPartitions = partitions(input);
      List<TopicPartition> outputPartitions = partitions(output);
      String changelog = application + "-" + StreamsExactlyOnceApp.STORE + "-changelog";
      Incarnation current = null;
      Feeder feeder = null;
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(input, PARTITIONS, (short) 1), new NewTopic(output, PARTITIONS, (short) 1)));
        feeder = new Feeder(side, input, keys);
        // The output's {high watermark, last stable offset} per partition when the last incarnation was killed.
        Map<TopicPartition, long[]> previous = endOffsets(admin, outputPartitions);
        for (int incarnation = 0; incarnation <= KILLS; incarnation++) {
          long startedAt = System.nanoTime();
          current = Incarnation.start(side, application, input, output, stateDir, log, incarnation);
          feeder.release(incarnation * SEGMENT + LEAD);
          // Until it processes: when the killed incarnation's transaction is over (aborted by this one's
          // InitProducerId), every partition's last stable offset is at least where its high watermark was.
          Incarnation starting = current;
          Map<TopicPartition, long[]> before = previous;
          long[] resolvedAfter = {-1};
          await(side + ": incarnation " + incarnation + " to process records", deadline, () -> {
            starting.checkAlive();
            if (resolvedAfter[0] < 0 && resolved(endOffsets(admin, outputPartitions), before)) {
              resolvedAfter[0] = System.nanoTime() - startedAt;
            }
            return starting.said.contains("processing") ? true : null;
          }, () -> "it said " + starting.said);
          long processingAfter = System.nanoTime() - startedAt;
          feeder.release(incarnation == KILLS ? RECORDS : (incarnation + 1) * SEGMENT + SEGMENT / 2);
          String timing = String.format("processing %d ms after its start", processingAfter / 1_000_000)
              + (incarnation == 0 ? "" : resolvedAfter[0] < 0 ? " (the killed one's transaction was over by then)"
                  : String.format(" (the killed one's transaction was over after %d ms)", resolvedAfter[0] / 1_000_000));
          if (incarnation == KILLS) {
            System.out.printf("[%s] incarnation %d: %s%n", side, incarnation, timing);
            break;
          }
          // Mid-stream: half a segment more input is out and more is coming, this incarnation committed
          // a transaction with output records (a partition's last stable offset moved past the killed
          // incarnation's records and abort marker), and it has another one open with records in the log
          // (a partition's high watermark is past its last stable offset).
          int half = incarnation * SEGMENT + SEGMENT / 2;
          int stretch = (incarnation + 1) * SEGMENT + 3 * SEGMENT / 4;
          Incarnation running = current;
          Feeder feeding = feeder;
          Map<TopicPartition, long[]> atKill = await(side + ": incarnation " + incarnation + " to have committed output and "
              + "to have a transaction open, after input record " + half, deadline, () -> {
                running.checkAlive();
                feeding.check();
                if (feeding.produced() < half) return null;
                Map<TopicPartition, long[]> ends = endOffsets(admin, outputPartitions);
                boolean committed = ends.entrySet().stream().anyMatch(e -> e.getValue()[1] > before.get(e.getKey())[0] + 1);
                boolean open = ends.values().stream().anyMatch(e -> e[0] > e[1]);
                if (committed && open) return ends;
                if (feeding.produced() >= feeding.allowed()) feeding.release(Math.min(stretch, feeding.allowed() + BATCH));
                return null;
              }, () -> "input records produced: " + feeding.produced() + "; output (high watermark/last stable offset) "
                  + describe(endOffsets(admin, outputPartitions)) + ", at the last kill " + describe(before));
          long killedAfter = System.nanoTime() - startedAt;
          current.kill();
          int producedAtKill = feeder.produced();
          previous = endOffsets(admin, outputPartitions);
          System.out.printf("[%s] incarnation %d: %s, killed %d ms after its start with %d input records out; the output's "
                  + "high watermark/last stable offset by partition: %s when seen open, %s after the kill%n", side, incarnation,
              timing, killedAfter / 1_000_000, producedAtKill, describe(atKill), describe(previous));
        }
        o.put("killedMidTransaction", KILLS);
        feeder.awaitDone(deadline);

        // The last incarnation counts everything: read committed, every key's last count is its total.
        try (Reader counts = new Reader(side, outputPartitions, "read_committed")) {
          Incarnation last = current;
          long before = System.nanoTime();
          await(side + ": the expected counts in " + output, deadline, () -> {
            last.checkAlive();
            counts.poll();
            return counts.lastByKey().equals(expected) || !counts.onTheWayTo(expected) ? true : null;
          }, () -> "last counts " + counts.lastByKey() + ", expected " + expected);
          if (!counts.onTheWayTo(expected)) {  // wrong already: what is there, all of it
            counts.readToEnd(deadline);
            checkCountsOneToN(side, "output " + output, counts.valuesByKey(), expected);
          }
          System.out.printf("[%s] the last counts came %d ms after the last input record was out%n", side,
              (System.nanoTime() - before) / 1_000_000);
          o.put("exitOfLastIncarnation", current.close());
          current = null;
          // Nothing after the end: what was written is all there is (a poll to the end offsets, once more).
          counts.readToEnd(deadline);
          o.put("outputByKey", checkCountsOneToN(side, "output " + output, counts.valuesByKey(), expected));
        }
        try (Reader all = new Reader(side, outputPartitions, "read_uncommitted")) {
          all.readToEnd(deadline);
          long uncommitted = all.valuesByKey().values().stream().mapToLong(List::size).sum();
          // Records of the aborted transactions the kills left (read committed, there are RECORDS).
          System.out.printf("[%s] output: %d records committed, %d aborted%n", side, RECORDS, uncommitted - RECORDS);
          if (uncommitted <= RECORDS) {
            throw new AssertionError(side + ": the output has no aborted records: no kill came while a transaction was open");
          }
        }
        // The changelog is compacted, but neither broker cleans a log's active segment, which holds all of it.
        try (Reader changes = new Reader(side, partitions(changelog), "read_committed")) {
          changes.readToEnd(deadline);
          o.put("changelogByKey", checkCountsOneToN(side, "changelog " + changelog, changes.valuesByKey(), expected));
        }
        Map<TopicPartition, OffsetAndMetadata> committed =
            Results.get(admin.listConsumerGroupOffsets(application).partitionsToOffsetAndMetadata());
        Map<String, Object> offsets = new TreeMap<>();
        Map<TopicPartition, long[]> inputEnds = endOffsets(admin, inputPartitions);
        for (TopicPartition tp : inputPartitions) {
          OffsetAndMetadata c = committed.get(tp);
          offsets.put(tp.toString(), c == null ? "none" : c.offset() == inputEnds.get(tp)[1] ? "at the end" : c.offset() + " of " + inputEnds.get(tp)[1]);
        }
        o.put("committedOffsets", offsets);
        System.out.printf("[%s] the whole scenario took %d ms%n", side, (System.nanoTime() - started) / 1_000_000);
      } finally {
        if (current != null) current.kill();
        if (feeder != null) feeder.stop();
        try (Stream<Path> files = Files.walk(stateDir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      return o;
    });
  }

  /** That each key's values are exactly 1, 2, ... n in order, n the key's input records; returns each key's last value. */
  static Map<String, Long> checkCountsOneToN(Side side, String what, Map<String, List<Long>> byKey, Map<String, Long> expected) {
    List<String> wrong = new ArrayList<>();
    Map<String, Long> last = new TreeMap<>();
    for (Map.Entry<String, Long> e : expected.entrySet()) {
      List<Long> values = byKey.getOrDefault(e.getKey(), List.of());
      last.put(e.getKey(), values.isEmpty() ? null : values.get(values.size() - 1));
      boolean ok = !values.isEmpty() && values.get(values.size() - 1).equals(e.getValue());
      for (int i = 0; ok && i < values.size(); i++) {
        ok = values.get(i) == i + 1;
      }
      if (!ok) wrong.add(e.getKey() + " (" + e.getValue() + " records): " + abbreviate(values));
    }
    for (String key : byKey.keySet()) {
      if (!expected.containsKey(key)) wrong.add(key + " is not an input key: " + abbreviate(byKey.get(key)));
    }
    if (!wrong.isEmpty()) {
      throw new AssertionError(side + ": the " + what + " should hold 1, 2, ... n for each key, read committed; it does not for\n  "
          + String.join("\n  ", wrong));
    }
    return last;
  }

  /** The values in short: how far they go 1, 2, 3, ..., what comes then, how many there are. */
  static String abbreviate(List<Long> values) {
    if (values.isEmpty()) return "none";
    int i = 0;
    while (i < values.size() && values.get(i) == i + 1) i++;
    if (i == values.size()) return "1.." + i;
    List<Long> then = values.subList(i, Math.min(values.size(), i + 6));
    return (i == 0 ? "" : "1.." + i + " then ") + then.stream().map(String::valueOf).collect(Collectors.joining(", "))
        + (i + then.size() < values.size() ? ", ..." : "") + " (" + values.size() + " values, the last " + values.get(values.size() - 1) + ")";
  }

  static List<TopicPartition> partitions(String topic) {
    List<TopicPartition> out = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) out.add(new TopicPartition(topic, p));
    return out;
  }

  /** Per partition {high watermark, last stable offset}. */
  static Map<TopicPartition, long[]> endOffsets(Admin admin, List<TopicPartition> tps) throws RuntimeException {
    try {
      Map<TopicPartition, OffsetSpec> latest = tps.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
      var high = Results.get(admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all());
      var stable = Results.get(admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all());
      Map<TopicPartition, long[]> out = new TreeMap<>(Comparator.comparing(TopicPartition::partition));
      for (TopicPartition tp : tps) out.put(tp, new long[] {high.get(tp).offset(), stable.get(tp).offset()});
      return out;
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  /** Whether every partition's last stable offset reached its high watermark of `before`. */
  static boolean resolved(Map<TopicPartition, long[]> ends, Map<TopicPartition, long[]> before) {
    return ends.entrySet().stream().allMatch(e -> e.getValue()[1] >= before.get(e.getKey())[0]);
  }

  static String describe(Map<TopicPartition, long[]> ends) {
    return ends.entrySet().stream().map(e -> e.getKey().partition() + ": " + e.getValue()[0] + "/" + e.getValue()[1])
        .collect(Collectors.joining(", ", "{", "}"));
  }

  static <T> T await(String what, long deadline, Supplier<T> probe) throws InterruptedException {
    return await(what, deadline, probe, () -> "");
  }

  /** Polls `probe` until it gives a value (not null), or fails saying what it waited for and what `seen` says. */
  static <T> T await(String what, long deadline, Supplier<T> probe, Supplier<String> seen) throws InterruptedException {
    while (true) {
      T value = probe.get();
      if (value != null) return value;
      if (System.nanoTime() > deadline) {
        String detail = seen.get();
        throw new AssertionError("timed out waiting for " + what + (detail.isEmpty() ? "" : "; " + detail));
      }
      Thread.sleep(50);
    }
  }

  static Path logFile(Side side) {
    String clientsLog = System.getProperty("org.slf4j.simpleLogger.logFile");
    Path dir = clientsLog == null ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(clientsLog).toAbsolutePath().getParent();
    return dir.resolve("streams-eos-" + side.name() + ".log");
  }

  /** One run of StreamsExactlyOnceApp in a JVM of its own, its stderr appended to the side's log. */
  static final class Incarnation {
    final Side side;
    final int number;
    final Process process;
    final List<String> said = new CopyOnWriteArrayList<>();

    private Incarnation(Side side, int number, Process process) {
      this.side = side;
      this.number = number;
      this.process = process;
      Thread reader = new Thread(() -> {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = out.readLine()) != null; ) said.add(line);
        } catch (IOException e) {
          said.add("(stdout: " + e + ")");
        }
      }, "streams-eos-" + side.name() + "-" + number + "-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    static Incarnation start(Side side, String application, String input, String output, Path stateDir, Path log, int number)
        throws IOException {
      Files.writeString(log, "=== incarnation " + number + " starts at " + java.time.LocalTime.now() + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-Dorg.slf4j.simpleLogger.logFile=System.err",
          "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.streams=info",
          "-cp", System.getProperty("java.class.path"),
          StreamsExactlyOnceApp.class.getName(),
          side.bootstrap(), application, input, output, stateDir.toString(), "java-compat-streams-eos-" + side.name()));
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      return new Incarnation(side, number, builder.start());
    }

    void checkAlive() {
      for (String line : said) {
        if (line.startsWith("error")) throw new AssertionError(side + ": incarnation " + number + " failed: " + line + " (" + said + ")");
      }
      if (!process.isAlive()) {
        throw new AssertionError(side + ": incarnation " + number + " exited with " + process.exitValue() + " having said " + said);
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError(side + ": incarnation " + number + " outlived SIGKILL");
    }

    /** Closes it cleanly (its stdin ends) and returns its exit code. */
    int close() throws Exception {
      OutputStream in = process.getOutputStream();
      in.close();
      if (!process.waitFor(40, TimeUnit.SECONDS)) {
        kill();
        throw new AssertionError(side + ": incarnation " + number + " did not close within 40 s; it said " + said);
      }
      return process.exitValue();
    }
  }

  /**
   * Produces the input on a thread of its own, BATCH records every TICK_MS, up to the count release()
   * allowed so far; idempotent, acks=all, each record acknowledged before the next batch. One request in
   * flight: Kafka describes a new topic a moment before it leads its partitions, and an idempotent
   * producer whose first batch got NOT_LEADER_OR_FOLLOWER while a later one got through is stuck on
   * OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  static final class Feeder {
    final Thread thread;
    final AtomicInteger allowed = new AtomicInteger();
    final AtomicInteger produced = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    volatile boolean stopping;

    Feeder(Side side, String topic, String[] keys) {
      thread = new Thread(() -> {
        try (KafkaProducer<String, String> producer = side.producer(Map.of(ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 0,
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1))) {
          long base = TransactionsTest.BASE_TIMESTAMP;
          int next = 0;
          while (next < keys.length && !stopping) {
            int upTo = Math.min(allowed.get(), Math.min(next + BATCH, keys.length));
            if (upTo <= next) {
              Thread.sleep(5);
              continue;
            }
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = next; i < upTo; i++) {
              sent.add(producer.send(new ProducerRecord<>(topic, null, base + i, keys[i], "record-" + i)));
            }
            for (var f : sent) f.get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            next = upTo;
            produced.set(next);
            Thread.sleep(TICK_MS);
          }
        } catch (Throwable e) {
          failure.set(e);
        }
      }, "streams-eos-feeder-" + side.name());
      thread.setDaemon(true);
      thread.start();
    }

    void release(int upTo) {
      allowed.accumulateAndGet(upTo, Math::max);
    }

    int produced() {
      return produced.get();
    }

    int allowed() {
      return allowed.get();
    }

    void check() {
      Throwable e = failure.get();
      if (e != null) throw new AssertionError("producing the input failed", e);
    }

    void awaitDone(long deadline) throws InterruptedException {
      StreamsExactlyOnceTest.await("the input's " + RECORDS + " records to be produced", deadline, () -> {
        check();
        return produced() == RECORDS ? true : null;
      }, () -> produced() + " produced");
    }

    void stop() throws InterruptedException {
      stopping = true;
      thread.join(10_000);
    }
  }

  /** A consumer of all partitions of a topic from the beginning, keeping every value by key. */
  static final class Reader implements AutoCloseable {
    final KafkaConsumer<String, Long> consumer;
    final List<TopicPartition> tps;
    final Map<String, List<Long>> byKey = new TreeMap<>();

    Reader(Side side, List<TopicPartition> tps, String isolation) {
      Map<String, Object> config = new HashMap<>();
      config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class);
      config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
      config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
      this.consumer = new KafkaConsumer<>(StreamsTest.withDefaults(side, config));
      this.tps = tps;
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
    }

    void poll() {
      for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(100))) {
        byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
      }
    }

    /** Polls until its position is at the end offsets (of its isolation level) as they are now. */
    void readToEnd(long deadline) throws InterruptedException {
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      StreamsExactlyOnceTest.await("reading " + tps + " to " + ends, deadline, () -> {
        poll();
        for (TopicPartition tp : tps) if (consumer.position(tp) < ends.get(tp)) return null;
        return true;
      });
    }

    Map<String, List<Long>> valuesByKey() {
      return byKey;
    }

    /** Whether each key's values so far are 1, 2, ... up to at most its expected count. */
    boolean onTheWayTo(Map<String, Long> expected) {
      for (Map.Entry<String, List<Long>> e : byKey.entrySet()) {
        Long n = expected.get(e.getKey());
        List<Long> values = e.getValue();
        if (n == null || values.size() > n) return false;
        for (int i = 0; i < values.size(); i++) if (values.get(i) != i + 1) return false;
      }
      return true;
    }

    Map<String, Long> lastByKey() {
      Map<String, Long> out = new TreeMap<>();
      byKey.forEach((key, values) -> out.put(key, values.get(values.size() - 1)));
      return out;
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
