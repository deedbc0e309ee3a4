// Fetch v4-18 (v0-3 carried the old message formats Kafka 4.0 dropped). v18 adds the high watermark a
// follower knows (KIP-1166), which only Kafka's KRaft controllers act on; its brokers ignore it, as
// this one does (it has no followers): v18 is served as v17. Long polling: an answer
// waits up to max_wait_ms for min_bytes, woken by appends to the partitions asked for, never by
// polling; a request with no partition to read (the final one a consumer's close() ends its session
// with, or one of a session without partitions) is answered at once, as Kafka's KafkaApis does.
// max_bytes and partition_max_bytes are honoured, except that the first batch found is
// always returned whole (KIP-74). Fetch sessions (KIP-227, v7+): full and incremental requests,
// forgotten partitions, epochs checked. As in Kafka, a full request (epoch 0, or -1: the final one)
// closes the session it names, if that still exists, and is never refused for it; only an
// incremental one needs its session (FETCH_SESSION_ID_NOT_FOUND otherwise). Topic ids from v13. Every
// answer carries the last stable offset (the first offset of the earliest open transaction, else the
// high watermark); read_committed reads stop there and list the aborted transactions among the batches
// read, for the client to drop their records (Kafka's FetchIsolation.TXN_COMMITTED). The request holds its
// session across its suspensions and re-checks after each that the session is still the live one at
// its epoch; a closing connection or shutdown ends the wait at once (broker/long_poll.hpp).
// Client quotas, as Kafka 4.x applies them to consumers: max_bytes is capped at what the client's
// consumer_byte_rate allows over the quota windows; the answer's size counts against that rate and its
// handling time, without the long-poll wait, against request_percentage. A throttled client gets an
// answer without partitions (the bytes it would have had are taken back off its rate), the longer
// throttle in throttle_time_ms, and its connection muted (broker/quota/throttle.hpp). A throttled full
// request creates no session, an incremental one keeps its session (its epoch moved on) unchanged.
// With an authorizer (as Kafka's KafkaApis): every partition read, named or cached in the session, needs
// READ on its topic, checked at each request; the others are answered TOPIC_AUTHORIZATION_FAILED (and
// stay in the session, as in Kafka, so that a later grant lets them be read).
#include <chrono>
#include <map>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/long_poll.hpp"
#include "broker/quota/throttle.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace asio = boost::asio;
using common::kafka_error;
namespace fe = proto::fetch;

namespace {

// One partition this answer reads, whether named by the request or cached in a session.
struct fetch_target {
  std::string topic;
  common::uuid topic_id;
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  kafka_error error = kafka_error::none;  // set when the topic id is unknown
  fetch_session_partition* cached = nullptr;
};

struct fetch_outcome {
  kafka_error error = kafka_error::none;
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  proto::record_set records;
  std::optional<std::vector<log::aborted_transaction>> aborted_transactions;
};

// Reads every target once; returns the bytes gathered.
awaitable<size_t> gather(broker& b, std::vector<fetch_target>& targets, int32_t max_bytes,
                         log::isolation_level isolation, std::vector<fetch_outcome>& out) {
  out.assign(targets.size(), fetch_outcome{});
  size_t total = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const fetch_target& t = targets[i];
    fetch_outcome& o = out[i];
    if (t.error != kafka_error::none) {
      o.error = t.error;
      continue;
    }
    const log::topic_partition tp{t.topic, t.partition};
    auto hwm = b.partitions().high_watermark(tp);
    auto start = b.partitions().log_start_offset(tp);
    auto lso = b.partitions().last_stable_offset(tp);
    if (!hwm || !start || !lso) {
      o.error = kafka_error::unknown_topic_or_partition;
      continue;
    }
    o.high_watermark = *hwm;
    o.last_stable_offset = std::min(*lso, *hwm);
    o.log_start_offset = *start;
    if (t.fetch_offset < *start || t.fetch_offset > *hwm) {
      o.error = kafka_error::offset_out_of_range;
      continue;
    }
    const bool committed_only = isolation == log::isolation_level::read_committed;
    if (committed_only) o.aborted_transactions.emplace();
    if (t.fetch_offset >= (committed_only ? o.last_stable_offset : *hwm)) continue;
    const int64_t budget = static_cast<int64_t>(max_bytes) - static_cast<int64_t>(total);
    if (budget <= 0 && total > 0) continue;  // the response is full; later partitions wait their turn
    const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(1, std::min<int64_t>(t.max_bytes, budget)));
    auto read = co_await b.partitions().read(tp, t.fetch_offset, limit, isolation);
    if (!read) {
      o.error = read.code();
      continue;
    }
    o.high_watermark = read->high_watermark;
    o.last_stable_offset = read->last_stable_offset;
    o.log_start_offset = read->log_start_offset;
    if (read->aborted_transactions) o.aborted_transactions = std::move(read->aborted_transactions);
    total += read->records.size();
    o.records = std::move(read->records);
  }
  co_return total;
}

fe::response session_error(kafka_error code) {
  fe::response resp;
  resp.error_code = common::wire_code(code);
  return resp;
}

}  // namespace

awaitable<fe::response> fetch(request_context& ctx, fe::request& req) {
  broker& b = ctx.owner;
  const int16_t v = ctx.version();
  const auto now = std::chrono::steady_clock::now();

  // READ on a topic, asked once per topic.
  std::map<std::string, bool, std::less<>> readable;
  auto may_read = [&](const std::string& topic) {
    auto [it, fresh] = readable.try_emplace(topic, false);
    if (fresh) it->second = security::authorized(ctx, security::acl_operation::read, security::resource_type::topic, topic);
    return it->second;
  };

  // The partitions the request names, by name (v4-12) or topic id (v13+).
  std::vector<fetch_target> named;
  for (const auto& topic : req.topics) {
    std::string name = topic.topic;
    kafka_error error = kafka_error::none;
    if (v >= 13) {
      const topic_info* info = b.topics().find(topic.topic_id);
      if (info) name = info->record.name;
      else error = kafka_error::unknown_topic_id;
    }
    for (const auto& p : topic.partitions)
      named.push_back({name, topic.topic_id, p.partition, p.fetch_offset, p.partition_max_bytes, error, nullptr});
  }

  // Sessions: which partitions this answer covers, and whether it is incremental. The request holds
  // the session (its cached partitions are what `targets` point at) until it has answered.
  std::shared_ptr<fetch_session> session;
  bool incremental = false;
  auto& sessions = b.fetch_sessions();
  if (v >= 7) {
    if (req.session_epoch == 0 || req.session_epoch == -1) {
      // A client that gave up its session (kgo after an answer without one) says -1 with the old id
      // until it starts a new one: refusing that would leave it no way to fetch.
      if (req.session_id != 0) sessions.remove(req.session_id);
      if (req.session_epoch == 0) session = sessions.create(now);
    } else {
      std::shared_ptr<fetch_session> existing = req.session_id != 0 ? sessions.find(req.session_id, now) : nullptr;
      if (!existing) co_return session_error(kafka_error::fetch_session_id_not_found);
      if (req.session_epoch != existing->epoch()) co_return session_error(kafka_error::invalid_fetch_session_epoch);
      session = existing;
      incremental = true;
      session->advance_epoch();
    }
  }
  const int32_t session_epoch = session ? session->epoch() : 0;  // what it must still carry when we answer
  std::vector<fetch_target> targets;
  if (session) {
    for (const auto& t : named)
      if (t.error == kafka_error::none)
        session->upsert({t.topic, t.topic_id, t.partition, t.fetch_offset, t.max_bytes, -1, -1, -1});
    if (incremental)
      for (const auto& f : req.forgotten_topics_data) {
        std::string name = f.topic;
        if (v >= 13)
          if (const topic_info* info = b.topics().find(f.topic_id)) name = info->record.name;
        for (int32_t p : f.partitions) session->forget(name, p);
      }
    for (auto* p : session->partitions())
      targets.push_back({p->topic, p->topic_id, p->partition, p->fetch_offset, p->max_bytes, kafka_error::none, p});
    for (const auto& t : named)  // unknown topic ids are not cached, but are answered
      if (t.error != kafka_error::none) targets.push_back(t);
  } else {
    targets = std::move(named);
  }
  for (auto& t : targets)
    if (t.error == kafka_error::none && !may_read(t.topic)) t.error = kafka_error::topic_authorization_failed;

  // The consumer's quota caps what one answer may carry.
  auto& quotas = b.quota_manager();
  const quota::client_identity who = quota::identity_of(ctx);
  const double quota_window_bytes = quotas.max_value_in_window(quota::quota_kind::fetch, who);
  const int32_t max_bytes = static_cast<int32_t>(std::min<double>(req.max_bytes, std::max(quota_window_bytes, 0.0)));
  const int32_t min_bytes = std::min(req.min_bytes, max_bytes);

  // Long polling: gather, and if there is not enough yet, wait for an append, the deadline, the
  // connection closing or shutdown. Every co_await may let other requests run: afterwards the
  // session may have been replaced, evicted or used by another request.
  std::vector<fetch_outcome> outcomes;
  const auto isolation = req.isolation_level == 1 ? log::isolation_level::read_committed
                                                  : log::isolation_level::read_uncommitted;
  const auto deadline = now + std::chrono::milliseconds(std::max(0, req.max_wait_ms));
  std::vector<log::topic_partition> watched;
  for (const auto& t : targets) watched.push_back({t.topic, t.partition});
  wait_set* waits = ctx.conn ? &ctx.conn->waits : nullptr;
  bool cancelled = false;
  for (;;) {
    const size_t bytes = co_await gather(b, targets, max_bytes, isolation, outcomes);
    if (session && !sessions.is_current(*session, session_epoch)) {
      // Another request of this session got in first: its epoch moved on (Kafka answers the same).
      if (sessions.find(session->id(), std::chrono::steady_clock::now()) == session)
        co_return session_error(kafka_error::invalid_fetch_session_epoch);
      session = nullptr;  // replaced or evicted: answer without it
    }
    bool any_error = false;
    for (const auto& o : outcomes) any_error |= o.error != kafka_error::none;
    if (cancelled || any_error || targets.empty() || static_cast<int64_t>(bytes) >= min_bytes ||
        std::chrono::steady_clock::now() >= deadline || b.stopping())
      break;
    auto woke = co_await wait_for_appends(b.io().get_executor(), b.partitions(), waits, watched, deadline);
    cancelled = woke == long_poll_wake::cancelled;  // gather once more, then answer
  }

  fe::response resp;
  resp.session_id = session ? session->id() : 0;
  // What the session will have sent, once the answer is sure not to be throttled.
  struct sent_state {
    fetch_session_partition* cached;
    int64_t high_watermark, log_start_offset, last_stable_offset;
  };
  std::vector<sent_state> sent;
  for (size_t i = 0; i < targets.size(); ++i) {
    fetch_target& t = targets[i];
    fetch_outcome& o = outcomes[i];
    fetch_session_partition* cached = session ? t.cached : nullptr;
    if (incremental && cached && o.error == kafka_error::none && o.records.empty() &&
        cached->sent_high_watermark == o.high_watermark && cached->sent_log_start_offset == o.log_start_offset &&
        cached->sent_last_stable_offset == o.last_stable_offset)
      continue;  // nothing new for this partition
    if (cached) sent.push_back({cached, o.high_watermark, o.log_start_offset, o.last_stable_offset});
    if (resp.responses.empty() || resp.responses.back().topic != t.topic ||
        resp.responses.back().topic_id != t.topic_id) {
      auto& topic = resp.responses.emplace_back();
      topic.topic = t.topic;
      topic.topic_id = t.topic_id;
    }
    auto& part = resp.responses.back().partitions.emplace_back();
    part.partition_index = t.partition;
    part.error_code = common::wire_code(o.error);
    part.high_watermark = o.high_watermark;
    part.last_stable_offset = o.last_stable_offset;
    part.log_start_offset = o.log_start_offset;
    if (o.aborted_transactions && o.error == kafka_error::none) {
      part.aborted_transactions.emplace();
      for (const auto& a : *o.aborted_transactions) part.aborted_transactions->push_back({a.producer_id, a.first_offset});
    } else {
      part.aborted_transactions = std::nullopt;
    }
    part.records = std::move(o.records);
  }

  const int32_t request_throttle = quota::record_request_time(ctx);
  int32_t bandwidth_throttle = 0;
  double response_size = 0;
  if (quotas.enforced(quota::quota_kind::fetch)) {
    proto::writer sized;
    resp.encode(sized, v);
    response_size = static_cast<double>(sized.finish().size());
    bandwidth_throttle = quotas.record(quota::quota_kind::fetch, who, response_size);
  }
  const int32_t throttle = std::max(bandwidth_throttle, request_throttle);
  if (throttle > 0) {
    // The client gets nothing now: the bytes it would have had do not count against it.
    if (response_size > 0) quotas.unrecord(quota::quota_kind::fetch, who, response_size);
    quota::mute_connection(ctx, throttle);
    fe::response throttled;
    throttled.throttle_time_ms = throttle;
    if (session && !incremental) sessions.remove(session->id());  // a full request's new session is not kept
    throttled.session_id = session && incremental ? session->id() : 0;
    co_return throttled;
  }
  for (const auto& s : sent) {
    s.cached->sent_high_watermark = s.high_watermark;
    s.cached->sent_log_start_offset = s.log_start_offset;
    s.cached->sent_last_stable_offset = s.last_stable_offset;
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
