package io.brook.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** The extension with @ExtendWith: one broker for the class, reset before each test; real client paths through faults. */
@ExtendWith(BrookExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrookExtensionTest {

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static KafkaProducer<String, String> producer(BrookBroker brook, Map<String, Object> extra) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brook.bootstrapServers());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    p.putAll(extra);
    return new KafkaProducer<>(p);
  }

  static Set<String> topics(BrookBroker brook) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brook.bootstrapServers()))) {
      return admin.listTopics().names().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @Order(1)
  void producesAndConsumes(BrookBroker brook) throws Exception {
    String topic = unique("orders");
    brook.createTopic(topic, 1);
    try (var producer = producer(brook, Map.of())) {
      for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "order " + i)).get(30, TimeUnit.SECONDS);
    }
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brook.bootstrapServers());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    try (var consumer = new KafkaConsumer<String, String>(c)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      List<String> seen = new java.util.ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seen.size() < 3 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) seen.add(r.value());
      }
      assertEquals(List.of("order 0", "order 1", "order 2"), seen);
    }
  }

  @Test
  @Order(2)
  void resetIsolationLeavesThingsBehind(BrookBroker brook) throws Exception {
    brook.createTopic("left-behind", 1);
    brook.injectError("Fetch", "NOT_LEADER_OR_FOLLOWER", 100);
    assertTrue(topics(brook).contains("left-behind"));
  }

  @Test
  @Order(3)
  void resetIsolationStartsClean(BrookBroker brook) throws Exception {
    assertEquals(List.of(), brook.faults());
    assertFalse(topics(brook).contains("left-behind"));
  }

  @Test
  void notLeaderOnProduceIsRetriedAndDelivered(BrookBroker brook) throws Exception {
    String topic = unique("retry");
    brook.createTopic(topic, 1);
    try (var producer = producer(brook, Map.of())) {
      producer.send(new ProducerRecord<>(topic, "warm-up")).get(30, TimeUnit.SECONDS);
      brook.injectError("Produce", "NOT_LEADER_OR_FOLLOWER", 1, topic, null);
      int before = brook.requests("Produce").size();
      producer.send(new ProducerRecord<>(topic, "survives a leader change")).get(30, TimeUnit.SECONDS);
      assertTrue(brook.requests("Produce").size() - before >= 2, "the refused produce was not sent again");
    }
  }

  @Test
  void notCoordinatorOnOffsetCommitIsRetried(BrookBroker brook) {
    String topic = unique("commits");
    String group = unique("group");
    brook.createTopic(topic, 1);
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brook.bootstrapServers());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    try (var consumer = new KafkaConsumer<String, String>(c)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.commitSync(Map.of(tp, new OffsetAndMetadata(1)), Duration.ofSeconds(30));  // finds the coordinator
      brook.injectError("OffsetCommit", "NOT_COORDINATOR", 1, null, group);
      int before = brook.requests("OffsetCommit").size();
      consumer.commitSync(Map.of(tp, new OffsetAndMetadata(7)), Duration.ofSeconds(30));
      assertTrue(brook.requests("OffsetCommit").size() - before >= 2, "the refused commit was not sent again");
      assertEquals(7, consumer.committed(Set.of(tp), Duration.ofSeconds(30)).get(tp).offset());
    }
  }

  @Test
  void pausedBrokerTimesTheRequestOut(BrookBroker brook) throws Exception {
    String topic = unique("paused");
    brook.createTopic(topic, 1);
    Map<String, Object> quick = Map.of(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 1500, ProducerConfig.RETRIES_CONFIG, 0,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    try (var producer = producer(brook, quick)) {
      producer.send(new ProducerRecord<>(topic, "warm-up")).get(30, TimeUnit.SECONDS);
      brook.pause();
      try {
        ExecutionException e = assertThrows(ExecutionException.class,
            () -> producer.send(new ProducerRecord<>(topic, "never answered")).get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
      } finally {
        brook.resume();
      }
    }
  }

  @Test
  void storageErrorOnAppendIsReported(BrookBroker brook) throws Exception {
    String topic = unique("full-disk");
    brook.createTopic(topic, 1);
    Map<String, Object> noRetries = Map.of(ProducerConfig.RETRIES_CONFIG, 0, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    try (var producer = producer(brook, noRetries)) {
      producer.send(new ProducerRecord<>(topic, "warm-up")).get(30, TimeUnit.SECONDS);
      brook.diskFault("append", "ENOSPC", 1, topic);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> producer.send(new ProducerRecord<>(topic, "no room")).get(30, TimeUnit.SECONDS));
      assertInstanceOf(KafkaStorageException.class, e.getCause());
      producer.send(new ProducerRecord<>(topic, "room again")).get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void controlErrorsNameTheProblem(BrookBroker brook) {
    BrookException e = assertThrows(BrookException.class, () -> brook.injectError("NoSuchApi", "NOT_COORDINATOR"));
    assertTrue(e.getMessage().contains("NoSuchApi"), e.getMessage());
    assertNotEquals("", brook.controlUrl());
  }
}
