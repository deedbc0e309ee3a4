#include "log/transaction_index.hpp"

#include <algorithm>
#include <string>

#include "log/format.hpp"

namespace brook::log {

namespace os = common::os;
using common::error;
using common::kafka_error;
using common::result;

namespace {

void put_be64(uint8_t* p, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8) p[i] = static_cast<uint8_t>(u);
}

int64_t get_be64(const uint8_t* p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
  return static_cast<int64_t>(u);
}

error txn_index_storage_error(const std::filesystem::path& path, const os::io_status& st) {
  return error{kafka_error::kafka_storage_error, path.string() + ": " + st.message()};
}

}  // namespace

std::array<uint8_t, 34> transaction_index::encode(const aborted_txn& txn) {
  std::array<uint8_t, format::aborted_txn_entry_size> out{};
  out[0] = static_cast<uint8_t>(static_cast<uint16_t>(format::aborted_txn_version) >> 8);
  out[1] = static_cast<uint8_t>(format::aborted_txn_version & 0xff);
  put_be64(out.data() + 2, txn.producer_id);
  put_be64(out.data() + 10, txn.first_offset);
  put_be64(out.data() + 18, txn.last_offset);
  put_be64(out.data() + 26, txn.last_stable_offset);
  return out;
}

std::optional<aborted_txn> transaction_index::decode(std::span<const uint8_t> entry) {
  if (entry.size() < format::aborted_txn_entry_size) return std::nullopt;
  const auto version = static_cast<int16_t>((entry[0] << 8) | entry[1]);
  if (version != format::aborted_txn_version) return std::nullopt;
  return aborted_txn{get_be64(entry.data() + 2), get_be64(entry.data() + 10), get_be64(entry.data() + 18),
                     get_be64(entry.data() + 26)};
}

result<size_t> transaction_index::load(int64_t end_offset) {
  entries_.clear();
  durable_entries_ = 0;
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return size_t{0};
  os::file_handle f;
  if (auto st = os::open_file(path_, os::open_mode::read_write, f); !st) return txn_index_storage_error(path_, st);
  uint64_t size = 0;
  if (auto st = os::file_size(f, size); !st) return txn_index_storage_error(path_, st);
  std::vector<uint8_t> bytes(size);
  size_t got = 0;
  if (auto st = os::read_at(f, bytes, 0, got); !st) return txn_index_storage_error(path_, st);
  bytes.resize(got);
  size_t total = bytes.size() / format::aborted_txn_entry_size;
  for (size_t i = 0; i < total; ++i) {
    auto txn = decode(std::span<const uint8_t>(bytes).subspan(i * format::aborted_txn_entry_size));
    bool sane = txn && txn->last_offset >= base_offset_ && txn->last_offset < end_offset && txn->first_offset >= 0 &&
                txn->first_offset <= txn->last_offset &&
                (entries_.empty() || entries_.back().last_offset < txn->last_offset);
    if (!sane) break;
    entries_.push_back(*txn);
  }
  const uint64_t keep = entries_.size() * format::aborted_txn_entry_size;
  if (keep < bytes.size())
    if (auto st = os::truncate_file(f, keep); !st) return txn_index_storage_error(path_, st);
  durable_entries_ = entries_.size();
  return total - entries_.size() + (bytes.size() % format::aborted_txn_entry_size != 0 ? 1 : 0);
}

result<void> transaction_index::append(const aborted_txn& txn) {
  if (!entries_.empty() && entries_.back().last_offset >= txn.last_offset)
    return error{kafka_error::invalid_request, "aborted transaction ending at " + std::to_string(txn.last_offset) +
                                                   " is not after the last one of " + path_.string() + " (" +
                                                   std::to_string(entries_.back().last_offset) + ")"};
  os::file_handle f;
  if (auto st = os::open_file(path_, os::open_mode::read_write_create, f); !st) return txn_index_storage_error(path_, st);
  const auto bytes = encode(txn);
  const uint64_t at = entries_.size() * format::aborted_txn_entry_size;
  if (auto st = os::write_at(f, bytes, at); !st) {
    (void)os::truncate_file(f, at);
    return txn_index_storage_error(path_, st);
  }
  entries_.push_back(txn);
  return {};
}

result<void> transaction_index::truncate_to(int64_t offset) {
  auto keep = static_cast<size_t>(
      std::find_if(entries_.begin(), entries_.end(), [&](const aborted_txn& t) { return t.last_offset >= offset; }) -
      entries_.begin());
  if (keep == entries_.size()) return {};
  os::file_handle f;
  if (auto st = os::open_file(path_, os::open_mode::read_write, f); !st) return txn_index_storage_error(path_, st);
  if (auto st = os::truncate_file(f, keep * format::aborted_txn_entry_size); !st)
    return txn_index_storage_error(path_, st);
  entries_.resize(keep);
  durable_entries_ = std::min(durable_entries_, keep);
  return {};
}

os::io_status transaction_index::sync(bool fsync) {
  if (!sync_pending()) return {};
  if (fsync) {
    os::file_handle f;
    if (auto st = os::open_file(path_, os::open_mode::read_write, f); !st) return st;
    if (auto st = os::sync_data(f); !st) return st;
  }
  durable_entries_ = entries_.size();
  return {};
}

aborted_txn_search transaction_index::collect(int64_t fetch_offset, int64_t upper_bound) const {
  aborted_txn_search out;
  for (const auto& t : entries_) {
    if (t.last_offset >= fetch_offset && t.first_offset < upper_bound) out.txns.push_back(t);
    if (t.last_stable_offset >= upper_bound) {
      out.complete = true;
      break;
    }
  }
  return out;
}

}  // namespace brook::log
