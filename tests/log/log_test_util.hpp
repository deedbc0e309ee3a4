// Shared pieces of the log tests: a scratch directory, a fake clock and batch builders.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/record_batch.hpp"
#include "log/partition_log.hpp"

namespace brook::log::testing {

struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    path = std::filesystem::temp_directory_path() /
           ("brook-log-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() { std::filesystem::remove_all(path); }
};

struct fake_clock {
  int64_t now = 1'700'000'000'000;
  clock_fn fn() {
    return [this] { return now; };
  }
};

// One uncompressed batch of `n` records "<tag>-<i>" with timestamps ts, ts+1, ...
inline std::vector<uint8_t> make_batch(int n, int64_t ts, const std::string& tag = "r", size_t value_size = 20) {
  common::record_batch_builder b;
  for (int i = 0; i < n; ++i) {
    std::string value = tag + "-" + std::to_string(i);
    if (value.size() < value_size) value.resize(value_size, '.');
    // Appended rather than `"k" + std::to_string(i)`, which trips GCC 12's false -Wrestrict warning.
    std::string key = "k";
    key += std::to_string(i);
    b.add(key, value, ts + i);
  }
  return b.build();
}

// Decodes every record of a region's bytes: (offset, timestamp, value).
struct decoded_record {
  int64_t offset;
  int64_t timestamp;
  std::string value;
};

inline std::vector<decoded_record> decode_all(const std::vector<uint8_t>& bytes) {
  std::vector<decoded_record> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto view = common::record_batch_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
    if (!view || !view->validate()) throw std::runtime_error("bad batch in read result");
    auto it = view->records(1 << 30);
    if (!it) throw std::runtime_error("undecodable batch");
    while (true) {
      auto r = it->next();
      if (!r) throw std::runtime_error("undecodable record");
      if (!*r) break;
      const auto& v = *(*r)->value;
      out.push_back({(*r)->offset, (*r)->timestamp, std::string(reinterpret_cast<const char*>(v.data()), v.size())});
    }
    pos += view->size_bytes();
  }
  return out;
}

// One batch of `n` records from producer `pid` at `epoch`, sequences from `seq`, transactional or not.
inline std::vector<uint8_t> make_producer_batch(int64_t pid, int16_t epoch, int32_t seq, int n, int64_t ts,
                                                bool transactional, const std::string& tag = "t") {
  common::record_batch_builder::options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  o.transactional = transactional;
  common::record_batch_builder b(o);
  for (int i = 0; i < n; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    b.add(key, tag + "-" + std::to_string(i), ts + i);
  }
  return b.build();
}

}  // namespace brook::log::testing
