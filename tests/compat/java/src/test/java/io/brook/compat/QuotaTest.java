package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.junit.jupiter.api.Test;

/**
 * Client quotas as the Java client meets them: a producer over its producer_byte_rate, a consumer over
 * its consumer_byte_rate and a consumer over its request_percentage each get a throttle time from the
 * broker (the client's produce-/fetch-throttle-time-max metric), and their records still arrive; a
 * client without a quota is never throttled. Each client id is this run's own, so no quota outlives
 * its scenario's meaning.
 */
class QuotaTest {
  static final int RECORD_BYTES = 1024;
  /** 10 KiB/s: a first burst of 200 KiB is twice that over the quota's ten one-second windows. */
  static final double BYTE_RATE = 10240;

  static void setQuota(Admin admin, String clientId, String key, double value) throws Exception {
    ClientQuotaEntity entity = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, clientId));
    admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity,
        List.of(new ClientQuotaAlteration.Op(key, value))))).all().get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    // Kafka applies a quota once its metadata reaches the broker: wait until it is described.
    long deadline = System.nanoTime() + Side.WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      var described = admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get();
      if (value == described.getOrDefault(entity, Map.of()).getOrDefault(key, -1.0)) return;
      Thread.sleep(50);
    }
    throw new AssertionError("quota " + key + " of " + clientId + " was never described");
  }

  static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
    for (var e : metrics.entrySet())
      if (e.getKey().group().equals(group) && e.getKey().name().equals(name)) {
        Object v = e.getValue().metricValue();
        return v instanceof Double d && !d.isNaN() ? d : 0.0;
      }
    throw new AssertionError("no metric " + group + "/" + name);
  }

  static void produce(Side side, String topic, String clientId, int count, Map<String, Object> o) throws Exception {
    try (var producer = side.producer(Map.of(
        ProducerConfig.CLIENT_ID_CONFIG, clientId,
        ProducerConfig.ACKS_CONFIG, "1",
        // One batch of them all, whatever the machine's speed: flush() ends the linger (within
        // delivery.timeout.ms less request.timeout.ms).
        ProducerConfig.LINGER_MS_CONFIG, 10000,
        ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      String value = "v".repeat(RECORD_BYTES);
      for (int i = 0; i < count; i++) sent.add(producer.send(new ProducerRecord<>(topic, 0, "k" + i, value)));
      producer.flush();
      int acked = 0;
      for (var f : sent) if (f.get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS).offset() >= 0) acked++;
      o.put("acked", acked);
      o.put("throttled", metric(producer.metrics(), "producer-metrics", "produce-throttle-time-max") > 0);
    }
  }

  /**
   * Polls until the consumer's fetches report a throttle (or the wait ends): whether they did, and
   * (`noteRead`) whether records arrived before.
   */
  static void consumeUntilThrottled(KafkaConsumer<String, String> consumer, String topic, Map<String, Object> o,
                                    boolean noteRead) {
    TopicPartition tp = new TopicPartition(topic, 0);
    consumer.assign(List.of(tp));
    consumer.seekToBeginning(List.of(tp));
    int read = 0;
    boolean throttled = false;
    long deadline = System.nanoTime() + Side.WAIT.toNanos();
    while (!throttled && System.nanoTime() < deadline) {
      read += consumer.poll(Duration.ofMillis(200)).count();
      throttled = metric(consumer.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max") > 0;
    }
    o.put("throttled", throttled);
    if (noteRead) o.put("readSome", read > 0);
  }

  @Test
  void producerOverItsByteRateIsThrottled() {
    String topic = Side.name("quota-produce");
    String metered = Side.name("quota-producer");
    String free = Side.name("unmetered-producer");
    SideBySide.Observed observed = SideBySide.compare("producer_byte_rate", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1)));
        setQuota(admin, metered, "producer_byte_rate", BYTE_RATE);
      }
      Map<String, Object> withQuota = SideBySide.observation();
      produce(side, topic, metered, 200, withQuota);
      o.put("withQuota", withQuota);
      Map<String, Object> without = SideBySide.observation();
      produce(side, topic, free, 200, without);
      o.put("withoutQuota", without);
      return o;
    });
    assertEquals(Map.of("withQuota", Map.of("acked", 200, "throttled", true),
        "withoutQuota", Map.of("acked", 200, "throttled", false)), observed.kafka());
  }

  @Test
  void consumerOverItsByteRateIsThrottled() {
    String topic = Side.name("quota-fetch");
    String metered = Side.name("quota-consumer");
    SideBySide.Observed observed = SideBySide.compare("consumer_byte_rate", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1)));
        setQuota(admin, metered, "consumer_byte_rate", BYTE_RATE);
      }
      produce(side, topic, Side.name("quota-filler"), 200, SideBySide.observation());
      try (var consumer = side.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, metered))) {
        consumeUntilThrottled(consumer, topic, o, true);
      }
      return o;
    });
    // The records are one batch of 200 KiB, which a fetch returns whole even past the quota's cap on
    // its size (KIP-74): over the quota even spread over its windows, so the throttled fetch gets no
    // records (their bytes are taken back off the client's rate), as Kafka answers it.
    assertEquals(Map.of("readSome", false, "throttled", true), observed.kafka());
  }

  @Test
  void consumerOverItsRequestPercentageIsThrottled() {
    String topic = Side.name("quota-requests");
    String metered = Side.name("busy-consumer");
    SideBySide.Observed observed = SideBySide.compare("request_percentage", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1)));
        // A millionth of a thread: any handling time is over it.
        setQuota(admin, metered, "request_percentage", 0.0001);
      }
      produce(side, topic, Side.name("request-filler"), 10, SideBySide.observation());
      try (var consumer = side.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, metered,
          ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100))) {
        consumeUntilThrottled(consumer, topic, o, false);
      }
      return o;
    });
    assertEquals(Map.of("throttled", true), observed.kafka());
  }
}
