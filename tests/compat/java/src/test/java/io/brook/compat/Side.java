package io.brook.compat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One of the two brokers a scenario runs against: "kafka" (Apache Kafka 4.4, shared with the other
 * suites of the ctest run) or "brook" (this suite's own brook-server). Both addresses come from the
 * environment run_java_compat.py sets. Names a scenario creates are the same on both sides: "java-",
 * the scenario's word and the run's id (RUN), so that outputs compare without rewriting names.
 * `bootstrap` is the PLAINTEXT listener's address; on(name) gives the same broker through one of its
 * security listeners (tests/compat/security_certs.py), whose clients then need that listener's settings.
 */
public record Side(String name, String bootstrap) {
  /** Unique per JVM run: a re-run against the same Kafka finds none of the previous run's names. */
  public static final String RUN = UUID.randomUUID().toString().substring(0, 6);

  /** Waits of a scenario (group joins, records arriving) end by this deadline at the latest. */
  public static final Duration WAIT = Duration.ofSeconds(30);

  public static Side kafka() {
    return new Side("kafka", env("BROOK_COMPAT_KAFKA_BOOTSTRAP"));
  }

  public static Side brook() {
    return new Side("brook", env("BROOK_COMPAT_BROOK_BOOTSTRAP"));
  }

  public static List<Side> both() {
    return List.of(kafka(), brook());
  }

  /** The same broker through its listener `listener` (SASL_PLAINTEXT, SSL, SASL_SSL, MTLS, REAUTH). */
  public Side on(String listener) {
    String key = "BROOK_COMPAT_" + name.toUpperCase(java.util.Locale.ROOT) + "_LISTENERS";
    for (String entry : env(key).split(",")) {
      String[] nameAndAddress = entry.split("=", 2);
      if (nameAndAddress[0].equals(listener)) return new Side(name, nameAndAddress[1]);
    }
    throw new IllegalStateException(key + " names no listener " + listener);
  }

  /** The directory of the certificates both brokers use (tests/compat/security_certs.py names its files). */
  public static String certificates() {
    return env("BROOK_COMPAT_CERTIFICATES");
  }

  private static String env(String key) {
    String value = System.getenv(key);
    if (value == null || value.isBlank()) throw new IllegalStateException(key + " is not set (run_java_compat.py sets it)");
    return value.trim();
  }

  /** "java-<what>-<RUN>": the name of a topic or group of this run. */
  public static String name(String what) {
    return "java-" + what + "-" + RUN;
  }

  public Admin admin() {
    return admin(Map.of());
  }

  public Admin admin(Map<String, Object> extra) {
    Map<String, Object> config = new HashMap<>();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "java-compat-admin-" + name);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
    config.putAll(extra);
    return Admin.create(config);
  }

  public KafkaProducer<String, String> producer(Map<String, Object> extra) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-compat-producer-" + name);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
    p.putAll(extra);
    return new KafkaProducer<>(p);
  }

  public KafkaConsumer<String, String> consumer(Map<String, Object> extra) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "java-compat-consumer-" + name);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis());
    p.putAll(extra);
    return new KafkaConsumer<>(p);
  }

  @Override
  public String toString() {
    return name;
  }
}
