#include "log/transaction_index.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "log/format.hpp"
#include "tests/log/log_test_util.hpp"

using namespace brook::log;
using brook::common::kafka_error;
namespace fs = std::filesystem;

namespace {
std::vector<uint8_t> txn_file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("transaction index: Kafka's 34-byte AbortedTxn entries, big-endian") {
  auto bytes = transaction_index::encode({0x0102030405060708, 10, 0x20, 0x21});
  REQUIRE(bytes.size() == format::aborted_txn_entry_size);
  const std::array<uint8_t, 34> expected{0, 0,                                  // version 0
                                         1, 2, 3, 4, 5, 6, 7, 8,                // producer id
                                         0, 0, 0, 0, 0, 0, 0, 10,               // first offset
                                         0, 0, 0, 0, 0, 0, 0, 0x20,             // last offset
                                         0, 0, 0, 0, 0, 0, 0, 0x21};            // last stable offset
  CHECK(bytes == expected);
  CHECK(transaction_index::decode(bytes) == aborted_txn{0x0102030405060708, 10, 0x20, 0x21});
  auto v1 = bytes;
  v1[1] = 1;
  CHECK_FALSE(transaction_index::decode(v1));
}

TEST_CASE("transaction index: append, order, search, truncation and reload") {
  testing::scratch_dir dir;
  const auto path = dir.path / "00000000000000000100.txnindex";
  transaction_index idx(path, 100);
  CHECK_FALSE(fs::exists(path));  // created at the first append
  REQUIRE(idx.append({1, 90, 105, 95}).ok());
  REQUIRE(idx.append({2, 101, 110, 111}).ok());
  REQUIRE(idx.append({3, 112, 120, 130}).ok());
  CHECK(idx.append({4, 115, 120, 121}).code() == kafka_error::invalid_request);  // not after the last
  CHECK(fs::file_size(path) == 3 * format::aborted_txn_entry_size);
  auto bytes = txn_file_bytes(path);
  CHECK(transaction_index::decode(std::span<const uint8_t>(bytes).subspan(34)) == aborted_txn{2, 101, 110, 111});

  // Overlap with [106, 112): the second only (the first ended before, the third starts at the bound); its
  // last stable offset (111) is below the bound, so the search goes on until the third (130 >= 112).
  auto found = idx.collect(106, 112);
  CHECK(found.txns == std::vector<aborted_txn>{{2, 101, 110, 111}});
  CHECK(found.complete);
  auto wide = idx.collect(0, 1000);
  CHECK(wide.txns.size() == 3);
  CHECK_FALSE(wide.complete);
  CHECK(idx.collect(100, 101).txns == std::vector<aborted_txn>{{1, 90, 105, 95}});

  CHECK(idx.sync_pending());
  REQUIRE(idx.sync(false).ok());
  CHECK(idx.durable_entries() == 3);
  REQUIRE(idx.truncate_to(110).ok());
  CHECK(idx.entries() == std::vector<aborted_txn>{{1, 90, 105, 95}});
  CHECK(fs::file_size(path) == format::aborted_txn_entry_size);

  // Reload: a torn entry at the end and entries past the segment's end are dropped, and the file cut.
  REQUIRE(idx.append({2, 101, 110, 111}).ok());
  REQUIRE(idx.append({3, 112, 120, 130}).ok());
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("\0\0\0", 3);
  }
  transaction_index reloaded(path, 100);
  auto dropped = reloaded.load(115);  // the segment now ends before offset 115
  REQUIRE(dropped.ok());
  CHECK(*dropped == 2);
  CHECK(reloaded.entries() == std::vector<aborted_txn>{{1, 90, 105, 95}, {2, 101, 110, 111}});
  CHECK(fs::file_size(path) == 2 * format::aborted_txn_entry_size);
  CHECK(reloaded.durable_entries() == 2);

  // A missing file is an empty index; an out-of-order or zeroed entry ends what is trusted.
  transaction_index none(dir.path / "missing.txnindex", 0);
  CHECK(none.load(10).value() == 0);
  CHECK(none.entries().empty());
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    const std::vector<char> zeros(34, 0);
    out.write(zeros.data(), 34);
  }
  transaction_index zeroed(path, 100);
  REQUIRE(zeroed.load(200).ok());
  CHECK(zeroed.entries().size() == 2);
}
