#include "client/producing/producer_batch.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace brook::client::producing;
using brook::client::delivery_report;
using brook::client::header;
using brook::client::topic_partition;
using brook::common::compression_codec;
using brook::common::record_batch_view;

namespace {
std::string text(brook::common::bytes_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
}  // namespace

TEST_CASE("record sizes are exact and the upper bound covers them", "[producing][batch]") {
  std::vector<uint8_t> out;
  std::string key = "k", value(300, 'v');
  std::vector<header> headers{{"h", std::string("x")}, {"n", std::nullopt}};
  std::vector<brook::common::record_header_view> views;
  for (const auto& h : headers)
    views.push_back({h.key, h.value ? std::optional<brook::common::bytes_view>(brook::common::bytes_view(
                                          reinterpret_cast<const uint8_t*>(h.value->data()), h.value->size()))
                                    : std::nullopt});
  brook::common::append_record(out, 0, 1234, 7,
                               brook::common::bytes_view(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                               brook::common::bytes_view(reinterpret_cast<const uint8_t*>(value.data()), value.size()),
                               views);
  CHECK(record_size_in_bytes(7, 1234, key, value, headers) == static_cast<int32_t>(out.size()));
  CHECK(batch_size_upper_bound(key, value, headers) >= static_cast<int32_t>(61 + out.size()));
  // Null key and value: one byte each.
  CHECK(record_size_in_bytes(0, 0, std::nullopt, std::nullopt, {}) == 1 + 1 + 1 + 1 + 1 + 1 + 1);
}

TEST_CASE("sequence numbers wrap as Java's DefaultRecordBatch.incrementSequence", "[producing][batch]") {
  CHECK(increment_sequence(0, 5) == 5);
  CHECK(increment_sequence(INT32_MAX, 1) == 0);
  CHECK(increment_sequence(INT32_MAX - 1, 3) == 1);
}

TEST_CASE("a batch encodes its records as a valid v2 batch, for every codec", "[producing][batch]") {
  for (auto codec : {compression_codec::none, compression_codec::gzip, compression_codec::snappy,
                     compression_codec::lz4, compression_codec::zstd}) {
    INFO(brook::common::codec_name(codec));
    producer_batch batch(topic_partition{"t", 2}, codec, std::nullopt, 16384, 1000, 1.0f);
    std::vector<delivery_report> reports;
    auto cb = [&](const delivery_report& r) { reports.push_back(r); };
    REQUIRE(batch.try_append(5000, std::string("k0"), std::string("v0"), {}, cb));
    REQUIRE(batch.try_append(5007, std::nullopt, std::string("v1"), {{"h", std::string("hv")}}, cb));
    REQUIRE(batch.try_append(4990, std::string("k2"), std::nullopt, {}, cb));
    REQUIRE(batch.close().ok());
    batch.set_producer_state(42, 3, 10);
    const auto bytes = batch.encode();
    const auto in_place = batch.encode_in_place();
    CHECK(std::equal(in_place.begin(), in_place.end(), bytes.begin(), bytes.end()));
    auto view = record_batch_view::parse(bytes);
    REQUIRE(view.ok());
    REQUIRE(view->validate().ok());
    CHECK(view->compression() == codec);
    CHECK(view->record_count() == 3);
    CHECK(view->last_offset_delta() == 2);
    CHECK(view->base_timestamp() == 5000);
    CHECK(view->max_timestamp() == 5007);
    CHECK(view->producer_id() == 42);
    CHECK(view->producer_epoch() == 3);
    CHECK(view->base_sequence() == 10);
    auto it = view->records(1 << 20);
    REQUIRE(it.ok());
    auto r0 = it->next();
    REQUIRE((r0.ok() && r0->has_value()));
    CHECK(text(*(*r0)->key) == "k0");
    CHECK((*r0)->timestamp == 5000);
    auto r1 = it->next();
    REQUIRE((r1.ok() && r1->has_value()));
    CHECK_FALSE((*r1)->key.has_value());
    CHECK((*r1)->timestamp == 5007);
    REQUIRE((*r1)->headers.size() == 1);
    CHECK((*r1)->headers[0].key == "h");
    auto r2 = it->next();
    REQUIRE((r2.ok() && r2->has_value()));
    CHECK_FALSE((*r2)->value.has_value());
    CHECK((*r2)->timestamp == 4990);
    CHECK((*r2)->offset_delta == 2);

    CHECK(batch.complete(100, -1));
    CHECK_FALSE(batch.complete(200, -1));  // callbacks run once
    REQUIRE(reports.size() == 3);
    CHECK(reports[0].offset == 100);
    CHECK(reports[2].offset == 102);
    CHECK(reports[1].timestamp == 5007);
    CHECK(reports[1].partition == 2);
    CHECK(reports[1].ok());
  }
}

TEST_CASE("levels reach the codecs", "[producing][batch]") {
  std::string value;
  for (int i = 0; i < 2000; ++i) value += "record " + std::to_string(i % 17) + " ";
  for (auto [codec, level] : {std::pair{compression_codec::gzip, 1}, std::pair{compression_codec::gzip, 9},
                              std::pair{compression_codec::lz4, 1}, std::pair{compression_codec::lz4, 17},
                              std::pair{compression_codec::zstd, -5}, std::pair{compression_codec::zstd, 19}}) {
    producer_batch batch(topic_partition{"t", 0}, codec, level, 1 << 20, 0, 1.0f);
    REQUIRE(batch.try_append(1, std::nullopt, value, {}, {}));
    REQUIRE(batch.close().ok());
    batch.set_producer_state(-1, -1, -1);
    const auto encoded = batch.encode();
    auto view = record_batch_view::parse(encoded);
    REQUIRE(view.ok());
    auto it = view->records(1 << 22);
    REQUIRE(it.ok());
    auto r = it->next();
    REQUIRE((r.ok() && r->has_value()));
    CHECK(text(*(*r)->value) == value);
  }
}

TEST_CASE("a batch fills to batch.size, and a first record always fits", "[producing][batch]") {
  producer_batch batch(topic_partition{"t", 0}, compression_codec::none, std::nullopt, 200, 0, 1.0f);
  const std::string value(50, 'x');
  int appended = 0;
  while (batch.try_append(0, std::nullopt, value, {}, {})) ++appended;
  CHECK(appended == 2);  // 61 + 2 x 57 = 175; a third would pass 200
  CHECK(batch.estimated_size_bytes() <= 200);

  producer_batch big(topic_partition{"t", 0}, compression_codec::none, std::nullopt, 100, 0, 1.0f);
  CHECK(big.try_append(0, std::nullopt, std::string(500, 'y'), {}, {}));
  CHECK(big.is_full());
  CHECK_FALSE(big.try_append(0, std::nullopt, std::string("z"), {}, {}));
}

TEST_CASE("compressed batches are sized with the ratio estimate and a 5% margin", "[producing][batch]") {
  const std::string value(1000, 'a');
  producer_batch optimistic(topic_partition{"t", 0}, compression_codec::gzip, std::nullopt, 16384, 0, 0.1f);
  int n = 0;
  while (optimistic.try_append(0, std::nullopt, value, {}, {})) ++n;
  // Each record is ~1007 bytes uncompressed; at 0.1 x 1.05 the estimate allows ~155 of them.
  CHECK(n > 100);
  auto ratio = optimistic.close();
  REQUIRE(ratio.ok());
  CHECK(*ratio < 0.1f);
  CHECK(optimistic.estimated_size_bytes() < 16384);

  producer_batch pessimistic(topic_partition{"t", 0}, compression_codec::gzip, std::nullopt, 16384, 0, 1.0f);
  int m = 0;
  while (pessimistic.try_append(0, std::nullopt, value, {}, {})) ++m;
  CHECK(m == 15);  // 61 + k x 1007 x 1.05 <= 16384
}

TEST_CASE("the compression ratio estimate worsens fast and improves slowly", "[producing][batch]") {
  compression_ratio_estimator e;
  CHECK(e.estimate("t", compression_codec::lz4) == Approx(1.0f));
  e.update("t", compression_codec::lz4, 0.5f);
  CHECK(e.estimate("t", compression_codec::lz4) == Approx(0.995f));
  e.update("t", compression_codec::lz4, 0.999f);
  CHECK(e.estimate("t", compression_codec::lz4) == Approx(1.045f));
  e.update("t", compression_codec::lz4, 1.5f);
  CHECK(e.estimate("t", compression_codec::lz4) == Approx(1.5f));
  CHECK(e.estimate("u", compression_codec::lz4) == Approx(1.0f));
}

TEST_CASE("a failed batch reports the error to every record", "[producing][batch]") {
  producer_batch batch(topic_partition{"t", 1}, compression_codec::none, std::nullopt, 16384, 0, 1.0f);
  std::vector<delivery_report> reports;
  auto cb = [&](const delivery_report& r) { reports.push_back(r); };
  REQUIRE(batch.try_append(1, std::nullopt, std::string("a"), {}, cb));
  REQUIRE(batch.try_append(2, std::nullopt, std::string("b"), {}, cb));
  CHECK(batch.fail({brook::common::kafka_error::invalid_record, "bad"},
                   {{1, {brook::common::kafka_error::invalid_timestamp, "too old"}}}));
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].error.code == brook::common::kafka_error::invalid_record);
  CHECK(reports[1].error.code == brook::common::kafka_error::invalid_timestamp);
  CHECK(reports[0].offset == -1);
  CHECK_FALSE(batch.complete(0, -1));
}

TEST_CASE("a batch splits into smaller ones that keep callbacks, creation time and sequences", "[producing][batch]") {
  producer_batch big(topic_partition{"t", 3}, compression_codec::lz4, std::nullopt, 1 << 20, 777, 0.1f);
  std::vector<int64_t> offsets(10, -2);
  for (int i = 0; i < 10; ++i)
    REQUIRE(big.try_append(1000 + i, "k" + std::to_string(i), std::string(100, 'a' + i),
                           {{"h", std::to_string(i)}}, [&offsets, i](const delivery_report& r) { offsets[i] = r.offset; }));
  REQUIRE(big.close().ok());
  big.set_producer_state(9, 2, 50);
  auto parts = big.split(400, 1.0f);
  CHECK(big.is_done());
  REQUIRE(parts.size() >= 3);
  int32_t sequence = 50;
  int records = 0;
  for (const auto& part : parts) {
    CHECK(part->created_ms() == 777);
    CHECK(part->state().producer_id == 9);
    CHECK(part->state().producer_epoch == 2);
    CHECK(part->base_sequence() == sequence);
    sequence += part->record_count();
    records += part->record_count();
    REQUIRE(part->close().ok());
    const auto encoded = part->encode();
    auto view = record_batch_view::parse(encoded);
    REQUIRE(view.ok());
    CHECK(view->compression() == compression_codec::lz4);
    auto it = view->records(1 << 20);
    INFO((it.ok() ? std::string() : it.err().message));
    REQUIRE(it.ok());
    auto first = it->next();
    REQUIRE((first.ok() && first->has_value()));
    const int index = records - part->record_count();
    CHECK(text(*(*first)->key) == "k" + std::to_string(index));
    CHECK((*first)->timestamp == 1000 + index);
    REQUIRE((*first)->headers.size() == 1);
    CHECK(text(*(*first)->headers[0].value) == std::to_string(index));
  }
  CHECK(records == 10);
  int64_t base = 100;
  for (const auto& part : parts) {
    part->complete(base, -1);
    base += part->record_count();
  }
  for (int i = 0; i < 10; ++i) CHECK(offsets[i] == 100 + i);
}

TEST_CASE("a batch's records are the bytes common::append_record writes", "[producing][batch]") {
  producer_batch batch(topic_partition{"t", 0}, compression_codec::none, std::nullopt, 1 << 20, 1000, 1.0f);
  std::vector<uint8_t> expected;
  const std::string big(300, 'x');  // a length varint of two bytes
  struct input {
    int64_t timestamp;
    std::optional<std::string> key, value;
    std::vector<brook::client::header> headers;
  };
  const std::vector<input> inputs = {
      {5000, std::string("k0"), std::string("v0"), {}},
      {5007, std::nullopt, big, {{"h", std::string("hv")}, {"n", std::nullopt}}},
      {4000, std::string(""), std::nullopt, {}},
      {9000000, big, big, {{big, big}}},
  };
  auto view = [](const std::optional<std::string>& s) -> std::optional<brook::common::bytes_view> {
    if (!s) return std::nullopt;
    return brook::common::bytes_view(reinterpret_cast<const uint8_t*>(s->data()), s->size());
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    REQUIRE(batch.try_append(in.timestamp, in.key, in.value, in.headers, {}));
    std::vector<brook::common::record_header_view> hv;
    for (const auto& h : in.headers) hv.push_back({h.key, view(h.value)});
    brook::common::append_record(expected, 0, in.timestamp - 5000, static_cast<int32_t>(i), view(in.key),
                                 view(in.value), hv);
  }
  REQUIRE(batch.close().ok());
  const auto bytes = batch.encode();
  REQUIRE(bytes.size() == brook::common::batch_layout::header_size + expected.size());
  CHECK(std::equal(expected.begin(), expected.end(), bytes.begin() + brook::common::batch_layout::header_size));
  // Encoding in place gives the same bytes, for any producer state.
  const auto in_place = batch.encode_in_place();
  CHECK(std::equal(in_place.begin(), in_place.end(), bytes.begin(), bytes.end()));
  batch.set_producer_state(7, 1, 100);
  const auto again = batch.encode();
  const auto in_place_again = batch.encode_in_place();
  CHECK(std::equal(in_place_again.begin(), in_place_again.end(), again.begin(), again.end()));
  CHECK(record_batch_view::parse(again)->validate().ok());
}
