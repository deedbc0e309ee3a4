package io.brook.compat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The Kafka Streams application of StreamsExactlyOnceTest, run in a JVM of its own so that the test can
 * kill it (SIGKILL) and start it again: exactly_once_v2, the records of the input topic counted by key
 * into a changelog-backed store, every update of a count to the output topic.
 *
 *   StreamsExactlyOnceApp BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR CLIENT_ID
 *
 * It tells the test how far it got on stdout, one word a line: "started", "state RUNNING" (and every other
 * state it enters), "processing" once the first record came through the topology, "error ..." when a
 * stream thread died, "closed" after a clean close. It closes cleanly when its stdin ends: when the test
 * closes it, or when the test's JVM is gone.
 */
public final class StreamsExactlyOnceApp {
  static final String STORE = "counts";

  private StreamsExactlyOnceApp() {}

  static void say(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: StreamsExactlyOnceApp BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR CLIENT_ID");
      System.exit(2);
    }
    String bootstrap = args[0];
    String application = args[1];
    String input = args[2];
    String output = args[3];
    String stateDir = args[4];
    String clientId = args[5];

    AtomicBoolean processing = new AtomicBoolean();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .peek((key, value) -> {
          if (processing.compareAndSet(false, true)) say("processing");
        })
        .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
        .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(STORE))
        .toStream()
        .to(output, Produced.with(Serdes.String(), Serdes.Long()));

    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, application);
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(StreamsConfig.CLIENT_ID_CONFIG, clientId);
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Kept by the test across restarts: the process id stored there (kafka-streams-process-metadata) names
    // the transactional id (<application>-<process id>-<thread>), so each incarnation's InitProducerId
    // fences the one before and aborts its open transaction at once (not after transaction.timeout.ms).
    config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    // Every update of a count is written (no record cache): the output holds 1, 2, ... n for each key.
    config.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // Long enough that a kill mostly finds a transaction open with records in the log, short enough that
    // the end comes soon after the last record.
    config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 500);
    // Static membership: an incarnation takes the place of the killed one in the group at once, instead
    // of the group waiting for the dead member's session to expire (session.timeout.ms) before it rebalances.
    config.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), clientId);
    config.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10000);
    config.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);

    KafkaStreams streams = new KafkaStreams(builder.build(), config);
    streams.setStateListener((now, before) -> say("state " + now));
    streams.setUncaughtExceptionHandler(e -> {
      say("error " + e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    say("started");

    // Until stdin ends (the test closes it, or its JVM went away).
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      while (in.readLine() != null) {
        // nothing to read but the end
      }
    }
    boolean closed = streams.close(Duration.ofSeconds(30));
    say(closed ? "closed" : "close timed out");
    System.exit(closed && streams.state() == KafkaStreams.State.NOT_RUNNING ? 0 : 1);
  }
}
