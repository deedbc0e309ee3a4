// The fault injector's rules on their own: counts, topic and group filters, order, clearing, version
// caps, disk rules, pause and the bounded request log. No broker, no clock: rules are counted, not timed.
#include <catch2/catch.hpp>

#include <cerrno>
#include <thread>

#include "broker/fault/fault_injector.hpp"

using namespace brook;
using broker::fault::fault_kind;
using broker::fault::fault_rule;
using broker::fault::request_names;

namespace {

fault_rule error_rule(int16_t api, int16_t code, std::optional<int32_t> count = 1) {
  fault_rule r;
  r.kind = fault_kind::errors;
  r.api_key = api;
  r.error_code = code;
  r.count = count;
  return r;
}

const request_names no_names{};

}  // namespace

TEST_CASE("an error rule answers the next N requests of its API, then is gone", "[fault][injector]") {
  broker::fault_injector f;
  CHECK_FALSE(f.has_rules());
  auto id = f.add(error_rule(8, 16, 2));
  REQUIRE(id);
  CHECK(f.has_rules());
  CHECK(f.wants_error_check(8));
  CHECK_FALSE(f.wants_error_check(9));
  CHECK_FALSE(f.take(9, &no_names).error);  // another API
  CHECK(f.take(8, &no_names).error == int16_t{16});
  REQUIRE(f.rules().size() == 1);
  CHECK(f.rules()[0].count == 1);
  CHECK(f.take(8, &no_names).error == int16_t{16});
  CHECK_FALSE(f.take(8, &no_names).error);
  CHECK(f.rules().empty());
  CHECK_FALSE(f.has_rules());
}

TEST_CASE("a rule without a count lasts until it is removed", "[fault][injector]") {
  broker::fault_injector f;
  auto id = f.add(error_rule(0, 6, std::nullopt));
  REQUIRE(id);
  for (int i = 0; i < 5; ++i) CHECK(f.take(0, &no_names).error == int16_t{6});
  CHECK(f.remove(*id));
  CHECK_FALSE(f.remove(*id));
  CHECK_FALSE(f.take(0, &no_names).error);
}

TEST_CASE("error rules limited to a topic or a group fire only for requests naming it", "[fault][injector]") {
  broker::fault_injector f;
  auto r = error_rule(8, 16);
  r.group = "g1";
  REQUIRE(f.add(r));
  auto t = error_rule(0, 6);
  t.api_key = 0;
  t.topic = "orders";
  REQUIRE(f.add(t));

  request_names other_group{{"orders"}, {}, {"g2"}};
  CHECK_FALSE(f.take(8, &other_group).error);
  request_names group{{}, {}, {"g1"}};
  CHECK(f.take(8, &group).error == int16_t{16});

  request_names other_topic{{"payments"}, {}, {}};
  CHECK_FALSE(f.take(0, &other_topic).error);
  // A topic named by id is resolved by the caller's function.
  common::uuid id = common::uuid::random();
  request_names by_id{{}, {id}, {}};
  auto resolve = [id](const common::uuid& u) -> std::optional<std::string> {
    return u == id ? std::optional<std::string>("orders") : std::nullopt;
  };
  CHECK(f.take(0, &by_id, resolve).error == int16_t{6});
  CHECK(f.rules().empty());
}

TEST_CASE("without the decoded request no error rule applies, while drop and delay still do", "[fault][injector]") {
  broker::fault_injector f;
  REQUIRE(f.add(error_rule(3, 5)));
  fault_rule d;
  d.kind = fault_kind::delay;
  d.api_key = 3;
  d.delay = std::chrono::milliseconds(250);
  d.count = std::nullopt;
  REQUIRE(f.add(d));
  auto faults = f.take(3, nullptr);
  CHECK_FALSE(faults.error);
  CHECK(faults.delay == std::chrono::milliseconds(250));
  CHECK(f.rules().size() == 2);  // the error rule has not fired
}

TEST_CASE("the oldest matching rule fires first, and a drop wins over everything", "[fault][injector]") {
  broker::fault_injector f;
  REQUIRE(f.add(error_rule(1, 1)));
  REQUIRE(f.add(error_rule(1, 2)));
  CHECK(f.take(1, &no_names).error == int16_t{1});
  CHECK(f.take(1, &no_names).error == int16_t{2});

  fault_rule drop;
  drop.kind = fault_kind::drop;
  drop.api_key = 1;
  REQUIRE(f.add(error_rule(1, 3)));
  REQUIRE(f.add(drop));
  auto faults = f.take(1, &no_names);
  CHECK(faults.drop);
  CHECK_FALSE(faults.error);
  CHECK(f.take(1, &no_names).error == int16_t{3});  // the error rule was not spent by the dropped request
}

TEST_CASE("invalid rules are refused", "[fault][injector]") {
  broker::fault_injector f;
  CHECK_FALSE(f.add(error_rule(1, 1, 0)));
  fault_rule d;
  d.kind = fault_kind::delay;
  d.delay = std::chrono::milliseconds(-1);
  CHECK_FALSE(f.add(d));
  fault_rule disk;
  disk.kind = fault_kind::disk;
  CHECK_FALSE(f.add(disk));  // no errno
  CHECK(f.rules().empty());
}

TEST_CASE("version caps lower the advertised max version and drop an API capped below its min", "[fault][injector]") {
  broker::fault_injector f;
  std::vector<common::protocol::api_versions::api_version> keys{{0, 3, 11}, {1, 4, 17}, {18, 0, 4}};
  fault_rule cap;
  cap.kind = fault_kind::version_cap;
  cap.api_key = 0;
  cap.max_version = 7;
  REQUIRE(f.add(cap));
  cap.api_key = 1;
  cap.max_version = 2;
  REQUIRE(f.add(cap));
  f.apply_version_caps(keys);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].api_key == 0);
  CHECK(keys[0].max_version == 7);
  CHECK(keys[1].api_key == 18);
  CHECK(keys[1].max_version == 4);
  // Consulting a cap does not spend it.
  CHECK(f.rules().size() == 2);
  CHECK_FALSE(f.rules()[0].count);
}

TEST_CASE("disk rules fail the next append or fsync, optionally of one topic", "[fault][injector]") {
  broker::fault_injector f;
  fault_rule disk;
  disk.kind = fault_kind::disk;
  disk.op = log::disk_op::append;
  disk.sys_errno = ENOSPC;
  disk.topic = "t";
  REQUIRE(f.add(disk));
  disk.op = log::disk_op::fsync;
  disk.sys_errno = EIO;
  disk.topic.reset();
  disk.count = 2;
  REQUIRE(f.add(disk));
  log::disk_fault_hook& hook = f;
  CHECK(hook.before_disk_op(log::disk_op::append, "other") == 0);
  CHECK(hook.before_disk_op(log::disk_op::append, "t") == ENOSPC);
  CHECK(hook.before_disk_op(log::disk_op::append, "t") == 0);
  CHECK(hook.before_disk_op(log::disk_op::fsync, "x") == EIO);
  CHECK(hook.before_disk_op(log::disk_op::fsync, "y") == EIO);
  CHECK(hook.before_disk_op(log::disk_op::fsync, "y") == 0);
}

TEST_CASE("pause and resume: resume calls the waker once, clear_all resumes", "[fault][injector]") {
  broker::fault_injector f;
  int wakes = 0;
  f.on_resume([&wakes] { ++wakes; });
  f.resume();  // not paused: nothing to wake
  CHECK(wakes == 0);
  f.pause();
  CHECK(f.paused());
  f.resume();
  CHECK_FALSE(f.paused());
  CHECK(wakes == 1);
  f.pause();
  REQUIRE(f.add(error_rule(1, 1)));
  f.log_request(1, 4, "c", 1);
  f.clear_all();
  CHECK_FALSE(f.paused());
  CHECK(wakes == 2);
  CHECK(f.rules().empty());
  CHECK(f.requests().empty());
}

TEST_CASE("the request log keeps the newest requests up to its capacity", "[fault][injector]") {
  broker::fault_injector f;
  f.set_request_log_capacity(3);
  for (int32_t i = 1; i <= 5; ++i) f.log_request(0, 9, "client-" + std::to_string(i), i);
  auto log = f.requests();
  REQUIRE(log.size() == 3);
  CHECK(log[0].correlation_id == 3);
  CHECK(log[0].client_id == "client-3");
  CHECK(log[2].correlation_id == 5);
  CHECK(log[2].api_version == 9);
  f.clear_requests();
  CHECK(f.requests().empty());
}

TEST_CASE("rules are added and consulted from several threads at once", "[fault][injector]") {
  broker::fault_injector f;
  constexpr int per_thread = 500;
  std::thread adder([&f] {
    for (int i = 0; i < per_thread; ++i) REQUIRE(f.add(error_rule(8, 16)));
  });
  int answered = 0;
  std::thread taker([&f, &answered] {
    while (answered < per_thread)
      if (f.take(8, &no_names).error) ++answered;
  });
  adder.join();
  taker.join();
  CHECK(answered == per_thread);
  CHECK(f.rules().empty());
}
