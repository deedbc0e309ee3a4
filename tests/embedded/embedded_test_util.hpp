// What the embedded broker's tests share: producing and reading records with Brook's own client.
#pragma once

#include <catch2/catch.hpp>

#include <brook/client/admin.hpp>
#include <brook/client/consumer.hpp>
#include <brook/client/producer.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "brook/embedded/broker.hpp"

namespace brook::embedded::testing {

// Sends each value to partition 0 of `topic` and waits for every delivery report; acks "all" or "1".
inline void produce(const std::string& servers, const std::string& topic, const std::vector<std::string>& values,
                    const std::string& acks = "all") {
  client::properties props{{"bootstrap.servers", servers}, {"acks", acks}, {"linger.ms", "0"}};
  if (acks != "all") props["enable.idempotence"] = "false";
  auto p = client::producer::create(props);
  REQUIRE(p);
  for (const auto& v : values) {
    client::record r;
    r.topic = topic;
    r.partition = 0;
    r.value = v;
    auto report = (*p)->send_sync(std::move(r));
    INFO(report.error.message);
    REQUIRE(report.ok());
  }
}

// Reads partition 0 of `topic` from the beginning until `expected` records have arrived (or 20 s passed).
inline std::vector<std::string> consume(const std::string& servers, const std::string& topic, size_t expected) {
  auto c = client::consumer::create({{"bootstrap.servers", servers}, {"enable.auto.commit", "false"}});
  REQUIRE(c);
  REQUIRE((*c)->assign({{topic, 0}}));
  REQUIRE((*c)->seek_to_beginning({{topic, 0}}));
  std::vector<std::string> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    auto records = (*c)->poll(std::chrono::milliseconds(200));
    REQUIRE(records);
    for (const auto& r : *records) out.emplace_back(r.value.value_or(std::string_view()));
  }
  return out;
}

// The partition's end offset (the next offset to be written).
inline int64_t end_offset(const std::string& servers, const std::string& topic) {
  auto c = client::consumer::create({{"bootstrap.servers", servers}, {"enable.auto.commit", "false"}});
  REQUIRE(c);
  auto ends = (*c)->end_offsets({{topic, 0}});
  INFO((ends ? std::string() : ends.err().message));
  REQUIRE(ends);
  return ends->at({topic, 0});
}

inline std::unique_ptr<broker> start_broker(options opts = {}) {
  auto b = broker::start(std::move(opts));
  INFO((b ? std::string() : b.err().message));
  REQUIRE(b);
  return std::move(*b);
}

}  // namespace brook::embedded::testing
