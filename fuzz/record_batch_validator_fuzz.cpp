// libFuzzer target: Kafka-style validation of a produced record batch (common/record_validation.hpp) on
// arbitrary bytes. The first input byte picks the topic's rules (compacted, LogAppendTime, a small or
// default max.message.bytes); the rest is the batch. The validator must never crash, read outside the
// input, or hold more than its bound; a batch it accepts must also iterate cleanly with records(); and the
// full walk alone (without the fast walk of uncompressed batches) must give the same verdict.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/compression.hpp"
#include "common/record_batch.hpp"
#include "common/record_validation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brook::common;
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::span<const uint8_t> batch(data + 1, size - 1);

  batch_validation_config config;
  config.topic = "fuzz";
  config.partition = 0;
  config.compacted = mode & 1;
  config.topic_log_append_time = mode & 2;
  config.max_message_bytes = (mode & 4) ? 4096 : 1048588;
  if (mode & 8) config.timestamp_before_max_ms = 1000;

  auto rejection = validate_produced_batch(batch, config, 1'700'000'000'000);
  auto full = detail::validate_produced_batch_full_walk(batch, config, 1'700'000'000'000);
  if (rejection.has_value() != full.has_value()) __builtin_trap();
  if (rejection && (rejection->code != full->code || rejection->message != full->message ||
                    rejection->record_errors.size() != full->record_errors.size()))
    __builtin_trap();
  if (!rejection) {
    // Accepted: the broker's own reader agrees, within the same bound.
    auto view = record_batch_view::parse(batch);
    if (!view) __builtin_trap();
    auto it = view->records(uncompressed_limit(view->record_count(), config.max_message_bytes));
    if (!it) __builtin_trap();
    int32_t seen = 0;
    while (true) {
      auto r = it->next();
      if (!r) __builtin_trap();
      if (!*r) break;
      if ((*r)->offset_delta != seen) __builtin_trap();
      ++seen;
    }
    if (seen != view->record_count()) __builtin_trap();
  }
  return 0;
}
