#include "broker/quota/client_quota_manager.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include "broker/quota/sampled_rate.hpp"

namespace bq = brook::broker::quota;
using brook::broker::client_quotas;
using brook::broker::quota_entity;
using brook::broker::quota_values;

namespace {

const bq::window_config kafka_defaults{11, 1000};

// A manager over `stored` on a clock the test moves.
struct quota_bench {
  client_quotas stored;
  int64_t now_ms = 0;
  bq::client_quota_manager manager{stored, kafka_defaults, [this] { return now_ms; }};

  void set(quota_entity entity, quota_values values) { stored.apply({{std::move(entity), std::move(values)}}); }
  void remove(quota_entity entity) { stored.apply({{std::move(entity), {}}}); }
};

const std::optional<std::string> default_name;  // the entity type's default

}  // namespace

TEST_CASE("Sampled rate: a young sensor is measured over window_count - 1 windows", "[quota]") {
  bq::sampled_rate rate;
  rate.record(1500, 0, kafka_defaults);
  CHECK(rate.window_size_ms(0, kafka_defaults) == 10000);
  CHECK(rate.measure(0, kafka_defaults) == Approx(150.0));
  // 400 ms later the span is still stretched to ten windows, plus the time elapsed.
  CHECK(rate.window_size_ms(400, kafka_defaults) == 10400);
  CHECK(rate.measure(400, kafka_defaults) == Approx(1500.0 / 10.4));
}

TEST_CASE("Sampled rate: a value after the window ends starts a new sample", "[quota]") {
  bq::sampled_rate rate;
  rate.record(500, 0, kafka_defaults);
  rate.record(600, 2500, kafka_defaults);
  // Oldest sample started at 0: 2500 ms elapsed, two full windows, stretched by eight more.
  CHECK(rate.window_size_ms(2500, kafka_defaults) == 10500);
  CHECK(rate.measure(2500, kafka_defaults) == Approx(1100.0 / 10.5));
}

TEST_CASE("Sampled rate: the ring holds window_count + 1 samples and forgets older ones", "[quota]") {
  bq::sampled_rate rate;
  for (int64_t t = 0; t <= 11000; t += 1000) rate.record(100, t, kafka_defaults);
  // At 11000 the sample of 0 has aged out (11 windows old); eleven samples of 100 remain, from 1000.
  CHECK(rate.window_size_ms(11000, kafka_defaults) == 10000);
  CHECK(rate.measure(11000, kafka_defaults) == Approx(110.0));

  bq::sampled_rate idle;
  idle.record(1000, 0, kafka_defaults);
  CHECK(idle.measure(10999, kafka_defaults) == Approx(1000.0 / 10.999));
  CHECK(idle.measure(11000, kafka_defaults) == 0.0);
}

TEST_CASE("Throttle time is Kafka's (rate - bound) / bound * window, rounded half up", "[quota]") {
  CHECK(bq::throttle_time_ms(150, 100, 10000) == 5000);
  CHECK(bq::throttle_time_ms(1100.0 / 10.5, 100, 10500) == 500);
  CHECK(bq::throttle_time_ms(100.5, 100, 1000) == 5);
  CHECK(bq::throttle_time_ms(100.05, 100, 10000) == 5);
  CHECK(bq::throttle_time_ms(100.0499, 100, 10000) == 5);
  CHECK(bq::throttle_time_ms(100.0449, 100, 10000) == 4);
}

TEST_CASE("Quota manager: without a quota of a kind nothing is recorded or throttled", "[quota]") {
  quota_bench q;
  q.set({{"user", "alice"}}, {{"consumer_byte_rate", 1}});
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 1e9) == 0);
  CHECK(q.manager.sensor_count() == 0);
  CHECK(q.manager.max_value_in_window(bq::quota_kind::produce, {"alice", "c1"}) == std::numeric_limits<double>::max());
}

TEST_CASE("Quota manager: a produce over its byte rate is throttled by Kafka's formula", "[quota]") {
  quota_bench q;
  q.set({{"user", "alice"}}, {{"producer_byte_rate", 100}});
  // 1000 bytes over ten windows is 100 B/s: at the bound, not over it.
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 1000) == 0);
  // 1500 bytes: 150 B/s, throttled (150 - 100) / 100 * 10000 ms.
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 500) == 5000);
  // Bob has no quota: Kafka still meters him, without a bound.
  CHECK(q.manager.record(bq::quota_kind::produce, {"bob", "c1"}, 1e12) == 0);
  // Once more than ten windows have passed the span is the real one: 1500 bytes over 10.5 s.
  q.now_ms = 10500;
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 0) == 4500);
}

TEST_CASE("Quota manager: a quota change applies at once to the live sensor", "[quota]") {
  quota_bench q;
  q.set({{"client-id", "c1"}}, {{"producer_byte_rate", 100}});
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 2000) == 10000);
  q.set({{"client-id", "c1"}}, {{"producer_byte_rate", 1000}});
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 0) == 0);
  q.set({{"client-id", "c1"}}, {{"producer_byte_rate", 150}});
  // The samples survived the changes: 2000 bytes over ten windows against 150 B/s.
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 0) == bq::throttle_time_ms(200, 150, 10000));
  q.remove({{"client-id", "c1"}});
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 1e9) == 0);
}

TEST_CASE("Quota manager: the eight levels of precedence, most specific first", "[quota]") {
  quota_bench q;
  const bq::client_identity who{"alice", "c1"};
  const std::vector<std::pair<quota_entity, double>> levels = {
      {{{"user", "alice"}, {"client-id", "c1"}}, 1},
      {{{"user", "alice"}, {"client-id", default_name}}, 2},
      {{{"user", "alice"}}, 3},
      {{{"user", default_name}, {"client-id", "c1"}}, 4},
      {{{"user", default_name}, {"client-id", default_name}}, 5},
      {{{"user", default_name}}, 6},
      {{{"client-id", "c1"}}, 7},
      {{{"client-id", default_name}}, 8},
  };
  for (const auto& [entity, value] : levels) q.set(entity, {{"producer_byte_rate", value}});
  // Which sensor meters alice/c1 at each level: the user-only levels share one among her clients,
  // the client-id-only levels do not name the user.
  const std::vector<bq::sensor_tags> tags = {{"alice", "c1"}, {"alice", "c1"}, {"alice", ""}, {"alice", "c1"},
                                             {"alice", "c1"}, {"alice", ""},   {"", "c1"},      {"", "c1"}};
  for (size_t level = 0; level < levels.size(); ++level) {
    INFO("level " << level + 1);
    const auto t = q.manager.tags_for(bq::quota_kind::produce, who);
    CHECK(t == tags[level]);
    CHECK(q.manager.quota_limit(bq::quota_kind::produce, t) == levels[level].second);
    q.remove(levels[level].first);
  }
  CHECK(q.manager.quota_limit(bq::quota_kind::produce, q.manager.tags_for(bq::quota_kind::produce, who)) ==
        std::nullopt);
}

TEST_CASE("Quota manager: a user quota is shared by the user's clients, a client-id default is not", "[quota]") {
  quota_bench q;
  q.set({{"user", "alice"}}, {{"producer_byte_rate", 100}});
  q.set({{"client-id", default_name}}, {{"producer_byte_rate", 100}});
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 1000) == 0);
  CHECK(q.manager.record(bq::quota_kind::produce, {"alice", "c2"}, 1000) == 10000);  // 2000 bytes together
  CHECK(q.manager.record(bq::quota_kind::produce, {"bob", "c1"}, 1000) == 0);         // own sensor
  CHECK(q.manager.record(bq::quota_kind::produce, {"bob", "c2"}, 1000) == 0);         // own sensor
  CHECK(q.manager.sensor_count() == 3);
}

TEST_CASE("Quota manager: the request quota throttles for at most one window", "[quota]") {
  quota_bench q;
  q.set({{"user", default_name}}, {{"request_percentage", 1}});
  CHECK(bq::client_quota_manager::nanos_to_percentage(10'000'000) == Approx(1.0));  // 10 ms of one second
  // 2 s of handling at once: 200 %-seconds over ten windows is 20 %, far over 1 %: capped at 1000 ms.
  CHECK(q.manager.record(bq::quota_kind::request, {"alice", "c1"},
                         bq::client_quota_manager::nanos_to_percentage(2'000'000'000)) == 1000);
}

TEST_CASE("Quota manager: unrecord takes bytes back, the window caps a fetch", "[quota]") {
  quota_bench q;
  q.set({{"user", "alice"}}, {{"consumer_byte_rate", 100}});
  CHECK(q.manager.max_value_in_window(bq::quota_kind::fetch, {"alice", "c1"}) == Approx(1000.0));
  CHECK(q.manager.record(bq::quota_kind::fetch, {"alice", "c1"}, 3000) == 20000);
  q.manager.unrecord(bq::quota_kind::fetch, {"alice", "c1"}, 3000);
  CHECK(q.manager.record(bq::quota_kind::fetch, {"alice", "c1"}, 0) == 0);
  // quota.window.num and quota.window.size.seconds scale the cap.
  client_quotas stored;
  stored.apply({{{{"user", "alice"}}, {{"consumer_byte_rate", 100}}}});
  bq::client_quota_manager wide(stored, {5, 2000}, [] { return int64_t{0}; });
  CHECK(wide.max_value_in_window(bq::quota_kind::fetch, {"alice", "c1"}) == Approx(800.0));
}

TEST_CASE("Quota manager: sensors idle for an hour are dropped", "[quota]") {
  quota_bench q;
  q.set({{"client-id", default_name}}, {{"producer_byte_rate", 100}});
  q.now_ms = 60'000;
  q.manager.record(bq::quota_kind::produce, {"alice", "c1"}, 1);
  q.now_ms = 60'000 + 3'600'000;
  q.manager.record(bq::quota_kind::produce, {"alice", "c2"}, 1);
  CHECK(q.manager.sensor_count() == 1);
}

TEST_CASE("The principal's name is the user entity", "[quota]") {
  CHECK(bq::principal_name("User:alice") == "alice");
  CHECK(bq::principal_name("User:ANONYMOUS") == "ANONYMOUS");
  CHECK(bq::principal_name("User:CN=a:b") == "CN=a:b");
}
