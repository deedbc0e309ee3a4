package io.brook.compat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.MemberAssignment;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Observations of consumer groups through the admin client, shared by the client and tool scenarios. */
final class Groups {
  private Groups() {}

  /** describeConsumerGroups without what differs between brokers (member ids). */
  static Object describe(Admin admin, String group) {
    try {
      ConsumerGroupDescription d = Results.get(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group));
      Map<String, Object> o = SideBySide.observation();
      o.put("groupId", d.groupId());
      o.put("type", d.type());
      o.put("state", d.groupState());
      o.put("isSimpleConsumerGroup", d.isSimpleConsumerGroup());
      o.put("partitionAssignor", d.partitionAssignor());
      o.put("coordinator", d.coordinator() == null ? null : d.coordinator().id());
      o.put("groupEpoch", d.groupEpoch());
      o.put("targetAssignmentEpoch", d.targetAssignmentEpoch());
      o.put("authorizedOperations", d.authorizedOperations());
      List<Map<String, Object>> members = new ArrayList<>();
      for (MemberDescription m : d.members().stream().sorted(Comparator.comparing(MemberDescription::clientId)).toList()) {
        Map<String, Object> member = SideBySide.observation();
        // Client ids may name the side (two Streams applications in one JVM need distinct ones).
        member.put("clientId", m.clientId().replaceAll("-(kafka|brook)(?=-|$)", "-<side>"));
        member.put("host", m.host());
        member.put("hasMemberId", !m.consumerId().isEmpty());
        member.put("groupInstanceId", m.groupInstanceId());
        member.put("assignment", partitions(m.assignment()));
        member.put("targetAssignment", m.targetAssignment().map(Groups::partitions));
        member.put("memberEpoch", m.memberEpoch());
        member.put("upgraded", m.upgraded());
        members.add(member);
      }
      o.put("members", members);
      return o;
    } catch (Exception e) {
      return "error " + Results.errorName(e);
    }
  }

  static List<String> partitions(MemberAssignment assignment) {
    return assignment.topicPartitions().stream().map(TopicPartition::toString).sorted().toList();
  }

  /** listConsumerGroupOffsets: partition -> offset, metadata and whether a leader epoch came. */
  static Object offsets(Admin admin, String group) {
    try {
      Map<TopicPartition, OffsetAndMetadata> offsets = Results.get(
          admin.listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec())).partitionsToOffsetAndMetadata(group));
      Map<String, Object> o = new TreeMap<>();
      offsets.forEach((tp, om) -> o.put(tp.toString(), om == null ? "none"
          : om.offset() + " metadata=" + om.metadata() + " leaderEpoch=" + om.leaderEpoch().map(e -> "present").orElse("absent")));
      return o;
    } catch (Exception e) {
      return "error " + Results.errorName(e);
    }
  }

  /** The group as listGroups shows it (type, protocol, state), or "absent". */
  static Object listed(Admin admin, String group) throws Exception {
    return Results.get(admin.listGroups().all()).stream()
        .filter(g -> g.groupId().equals(group))
        .map(g -> (Object) ("type=" + g.type().map(Object::toString).orElse("?") + " protocol=" + g.protocol()
            + " state=" + g.groupState().map(Object::toString).orElse("?")))
        .findFirst().orElse("absent");
  }

  static <T> String present(Optional<T> value) {
    return value.isPresent() ? "present" : "absent";
  }
}
