// DescribeTransactions v0: each transactional id's state, producer id and epoch, timeout, start time
// and partitions, as the transaction coordinator holds them; TRANSACTIONAL_ID_NOT_FOUND for an id it
// does not know.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace dt = proto::describe_transactions;

awaitable<dt::response> describe_transactions(request_context& ctx, dt::request& req) {
  broker& b = ctx.owner;
  dt::response resp;
  for (const auto& id : req.transactional_ids) {
    // As Kafka's KafkaApis: DESCRIBE on each transactional id.
    if (!security::authorized(ctx, security::acl_operation::describe, security::resource_type::transactional_id, id)) {
      auto& out = resp.transaction_states.emplace_back();
      out.error_code = common::wire_code(common::kafka_error::transactional_id_authorization_failed);
      out.transactional_id = id;
      continue;
    }
    const auto d = b.transactions().coordinator().describe(id);
    auto& out = resp.transaction_states.emplace_back();
    out.error_code = common::wire_code(d.error);
    out.transactional_id = id;
    out.transaction_state = d.state;
    out.transaction_timeout_ms = d.transaction_timeout_ms;
    out.transaction_start_time_ms = d.transaction_start_time_ms;
    out.producer_id = d.producer_id;
    out.producer_epoch = d.producer_epoch;
    for (const auto& [topic, partitions] : d.topics) out.topics.push_back({topic, partitions});
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
