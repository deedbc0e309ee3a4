// The Java client's side of the cross-client tests (tests/client/cli/test_cross_client_java.py): produces
// the records described on standard input with Kafka's own producer and prints where each one landed.
//
// Input: one record a line, tab-separated fields; bytes are hex, "-" stands for null:
//   CODEC  TOPIC  PARTITION|-  TIMESTAMP_MS|-  KEY|-  VALUE|-  HEADERS
// where HEADERS is empty or a comma-separated list of HEXKEY:HEXVALUE (HEXVALUE "-" for a null value).
// Records of one codec go through one producer (compression.type is a producer setting).
// Output: one line per input line, in input order: PARTITION  OFFSET  TIMESTAMP_MS.
//
// Usage: java -cp <kafka-clients and its dependencies>:<classes> CrossClientProducer BOOTSTRAP

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class CrossClientProducer {
  private static byte[] bytes(String field) {
    return field.equals("-") ? null : HexFormat.of().parseHex(field);
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap, String codec) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "cross-client-java-" + codec);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");  // several records a batch, so that codecs compress batches
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: CrossClientProducer BOOTSTRAP < records");
      System.exit(2);
    }
    List<String[]> lines = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (!line.isEmpty()) lines.add(line.split("\t", -1));
      }
    }
    Map<String, KafkaProducer<byte[], byte[]>> producers = new LinkedHashMap<>();
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (String[] f : lines) {
      if (f.length != 7) throw new IllegalArgumentException("expected 7 fields, got " + f.length);
      KafkaProducer<byte[], byte[]> p = producers.computeIfAbsent(f[0], codec -> producer(args[0], codec));
      Integer partition = f[2].equals("-") ? null : Integer.valueOf(f[2]);
      Long timestamp = f[3].equals("-") ? null : Long.valueOf(f[3]);
      List<Header> headers = new ArrayList<>();
      if (!f[6].isEmpty()) {
        for (String h : f[6].split(",")) {
          String[] kv = h.split(":", 2);
          headers.add(new RecordHeader(new String(bytes(kv[0]), StandardCharsets.UTF_8), bytes(kv[1])));
        }
      }
      sent.add(p.send(new ProducerRecord<>(f[1], partition, timestamp, bytes(f[4]), bytes(f[5]), headers)));
    }
    for (KafkaProducer<byte[], byte[]> p : producers.values()) p.flush();
    StringBuilder out = new StringBuilder();
    for (Future<RecordMetadata> f : sent) {
      RecordMetadata m = f.get();
      out.append(m.partition()).append('\t').append(m.offset()).append('\t').append(m.timestamp()).append('\n');
    }
    for (KafkaProducer<byte[], byte[]> p : producers.values()) p.close();
    System.out.print(out);
    System.out.flush();
  }
}
