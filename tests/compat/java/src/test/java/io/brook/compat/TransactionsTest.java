package io.brook.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The transactional producer (KIP-98): commits and aborts, offsets sent to the transaction, what
 * read_committed and read_uncommitted consumers then see (records, end offsets), and a zombie producer
 * fenced by a new one with the same transactional id. Both brokers finalize transaction.version 2, so the
 * client runs KIP-890's second part (partitions added by its produce requests, an epoch bump at every end).
 */
class TransactionsTest {
  static final long BASE_TIMESTAMP = (System.currentTimeMillis() / 1000) * 1000;

  static KafkaProducer<String, String> transactional(Side side, String transactionalId) {
    return side.producer(Map.of(
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60000));
  }

  static void send(KafkaProducer<String, String> producer, String topic, int partition, String key, int i)
      throws Exception {
    producer.send(new ProducerRecord<>(topic, partition, BASE_TIMESTAMP + i, key, "value-" + i)).get();
  }

  /** Every record of the topic's partitions as a consumer of `isolation` reads it, and its end offsets. */
  static Map<String, Object> read(Side side, String topic, int partitions, String isolation, int expected)
      throws Exception {
    Map<Integer, List<String>> byPartition = new TreeMap<>();
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
    try (var consumer = side.consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      int count = 0;
      long deadline = System.nanoTime() + Side.WAIT.toNanos();
      while (count < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          byPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>())
              .add(r.offset() + " " + r.key() + "=" + r.value() + " @" + (r.timestamp() - BASE_TIMESTAMP));
          count++;
        }
      }
      // Nothing more arrives: a poll past the expected records finds none.
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300)))
        byPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add("unexpected " + r.offset());
      Map<Integer, Long> ends = new TreeMap<>();
      consumer.endOffsets(tps).forEach((tp, offset) -> ends.put(tp.partition(), offset));
      Map<Integer, Long> positions = new TreeMap<>();
      for (TopicPartition tp : tps) positions.put(tp.partition(), consumer.position(tp));
      Map<String, Object> o = SideBySide.observation();
      o.put("records", byPartition);
      o.put("endOffsets", ends);
      o.put("positions", positions);
      return o;
    }
  }

  @Test
  void commitAbortAndOffsetsInTransactions() {
    String input = Side.name("txn-in");
    String output = Side.name("txn-out");
    String group = Side.name("txn-group");
    String transactionalId = Side.name("txn-copier");
    SideBySide.compare("transactions: commit, abort, sendOffsetsToTransaction", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(input, 1, (short) 1), new NewTopic(output, 2, (short) 1)));
      }
      try (var producer = transactional(side, transactionalId)) {
        producer.initTransactions();
        producer.beginTransaction();
        for (int i = 0; i < 3; i++) send(producer, output, i % 2, "committed-" + i, i);
        producer.sendOffsetsToTransaction(
            Map.of(new TopicPartition(input, 0), new OffsetAndMetadata(5, "first")), new ConsumerGroupMetadata(group));
        producer.commitTransaction();

        producer.beginTransaction();
        for (int i = 3; i < 5; i++) send(producer, output, i % 2, "aborted-" + i, i);
        producer.sendOffsetsToTransaction(
            Map.of(new TopicPartition(input, 0), new OffsetAndMetadata(9, "aborted")), new ConsumerGroupMetadata(group));
        producer.abortTransaction();

        producer.beginTransaction();
        for (int i = 5; i < 7; i++) send(producer, output, i % 2, "committed-" + i, i);
        producer.commitTransaction();
      }
      o.put("readCommitted", read(side, output, 2, "read_committed", 5));
      o.put("readUncommitted", read(side, output, 2, "read_uncommitted", 7));
      try (Admin admin = side.admin()) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            Results.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        Map<String, String> offsets = new TreeMap<>();
        committed.forEach((tp, om) -> offsets.put(tp.toString(), om.offset() + " " + om.metadata()));
        o.put("groupOffsets", offsets);
      }
      return o;
    });
  }

  @Test
  void aZombieProducerIsFenced() {
    String output = Side.name("txn-zombie");
    String transactionalId = Side.name("txn-zombie-id");
    SideBySide.compare("transactions: a zombie is fenced by a new producer of its id", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(output, 1, (short) 1)));
      }
      try (var zombie = transactional(side, transactionalId)) {
        zombie.initTransactions();
        zombie.beginTransaction();
        send(zombie, output, 0, "zombie", 0);
        try (var fresh = transactional(side, transactionalId)) {
          fresh.initTransactions();  // aborts the zombie's open transaction and bumps the epoch
          fresh.beginTransaction();
          send(fresh, output, 0, "fresh", 1);
          fresh.commitTransaction();
        }
        String outcome;
        try {
          send(zombie, output, 0, "zombie-again", 2);
          zombie.commitTransaction();
          outcome = "committed";
        } catch (Exception e) {
          outcome = Results.errorName(e);
        }
        o.put("zombieAfterFencing", outcome);
      }
      o.put("readCommitted", read(side, output, 1, "read_committed", 1));
      return o;
    });
  }
}
