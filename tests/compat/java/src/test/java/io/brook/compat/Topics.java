package io.brook.compat;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Waits for what an admin call changed to show. Kafka's controller answers CreateTopics,
 * CreatePartitions and IncrementalAlterConfigs once it committed the change; the broker that answers
 * Metadata and DescribeConfigs applies it a moment later. A scenario that looks at once waits here
 * first, on both sides, so that it compares the outcome rather than the propagation delay.
 */
final class Topics {
  private Topics() {}

  /** Creates the topics and waits until each is described with its partitions. */
  static void create(Admin admin, Collection<NewTopic> topics) throws Exception {
    Results.get(admin.createTopics(topics).all());
    for (NewTopic t : topics) {
      int partitions = t.numPartitions() > 0 ? t.numPartitions()
          : t.replicasAssignments() != null ? t.replicasAssignments().size() : 1;
      awaitPartitions(admin, t.name(), partitions);
    }
  }

  static void create(Side side, String topic, int partitions) throws Exception {
    try (Admin admin = side.admin()) {
      create(admin, List.of(new NewTopic(topic, partitions, (short) 1)));
    }
  }

  /** Waits until describeTopics shows `topic` with `partitions` partitions, each with its leader. */
  static void awaitPartitions(Admin admin, String topic, int partitions) throws InterruptedException {
    Results.await(topic + " with " + partitions + " partitions", () -> {
      try {
        Map<String, TopicDescription> d = Results.get(admin.describeTopics(List.of(topic)).allTopicNames());
        var shown = d.get(topic).partitions();
        return shown.size() == partitions && shown.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
      } catch (Exception e) {
        return false;
      }
    });
  }

  /** Waits until `topic`'s config `name` is set to `value` (null: until it is not set on the topic). */
  static void awaitConfig(Admin admin, String topic, String name, String value) throws InterruptedException {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Results.await(topic + "'s " + name + (value == null ? " to be unset" : " to be " + value), () -> {
      try {
        Config config = Results.get(admin.describeConfigs(List.of(resource)).all()).get(resource);
        ConfigEntry e = config.get(name);
        if (value == null) return e == null || e.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
        return e != null && e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && Objects.equals(e.value(), value);
      } catch (Exception e) {
        return false;
      }
    });
  }
}
