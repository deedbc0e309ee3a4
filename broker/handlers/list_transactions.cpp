// ListTransactions v0-2: the transactions the coordinator knows, filtered by state names (unknown
// names are reported back), producer ids, v1's duration (running longer than that) and v2's
// transactional id pattern (KIP-1152: an RE2 regular expression that must match the whole id; null or
// empty matches every id; one that does not compile is INVALID_REGULAR_EXPRESSION, as in Kafka). The
// pattern is compiled and matched on the blocking pool, never on the network thread.
#include <re2/re2.h>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "broker/group/consumer_group.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace lt = proto::list_transactions;

awaitable<lt::response> list_transactions(request_context& ctx, lt::request& req) {
  broker& b = ctx.owner;
  lt::response resp;
  transaction::list_filter filter;
  filter.states = req.state_filters;
  filter.producer_ids.insert(req.producer_id_filters.begin(), req.producer_id_filters.end());
  filter.duration_ms = req.duration_filter;
  auto listing = b.transactions().coordinator().list(filter, transaction::transaction_service::wall_now());
  resp.unknown_state_filters = std::move(listing.unknown_state_filters);
  std::vector<transaction::listed_transaction> listed = std::move(listing.transactions);
  if (req.transactional_id_pattern && !req.transactional_id_pattern->empty()) {
    const std::string pattern = *req.transactional_id_pattern;
    auto match = [pattern, listed]() -> std::optional<std::vector<transaction::listed_transaction>> {
      std::string error;
      auto re = group::compile_regex(pattern, &error);
      if (!re) return std::nullopt;
      std::vector<transaction::listed_transaction> kept;
      for (const auto& t : listed)
        if (re2::RE2::FullMatch(t.transactional_id, *re)) kept.push_back(t);
      return kept;
    };
    auto kept = co_await run_blocking(b.blocking_pool(), match);
    if (!kept) {
      resp.error_code = common::wire_code(kafka_error::invalid_regular_expression);
      co_return resp;
    }
    listed = std::move(*kept);
  }
  // As Kafka's KafkaApis: only the transactional ids the principal may DESCRIBE.
  std::erase_if(listed, [&ctx](const transaction::listed_transaction& t) {
    return !security::authorized(ctx, security::acl_operation::describe, security::resource_type::transactional_id,
                                 t.transactional_id);
  });
  for (const auto& t : listed) resp.transaction_states.push_back({t.transactional_id, t.producer_id, t.state});
  co_return resp;
}

}  // namespace brook::broker::handlers
