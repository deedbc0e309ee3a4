package io.brook.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The extension registered programmatically: overrides, and a fresh broker per test. */
class RegisteredExtensionTest {
  @RegisterExtension
  static BrookExtension brook = BrookExtension.create().withOverride("num.partitions", "3").freshPerTest();

  static String previous;

  @Test
  void overridesReachTheBroker() throws Exception {
    try (var producer = BrookExtensionTest.producer(brook.broker(), Map.of())) {
      producer.send(new ProducerRecord<>("auto-created", "x")).get(30, TimeUnit.SECONDS);
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brook.bootstrapServers()))) {
      var description = admin.describeTopics(java.util.List.of("auto-created")).allTopicNames().get(30, TimeUnit.SECONDS);
      assertEquals(3, description.get("auto-created").partitions().size());
    }
    checkFresh();
  }

  @Test
  void eachTestHasItsOwnBroker(BrookBroker parameter) {
    assertEquals(brook.bootstrapServers(), parameter.bootstrapServers());
    checkFresh();
  }

  private static void checkFresh() {
    if (previous != null) assertNotEquals(previous, brook.bootstrapServers());
    previous = brook.bootstrapServers();
  }
}
