#include <catch2/catch.hpp>

#include "broker/frame_pool.hpp"

using brook::broker::frame_bytes;
using brook::broker::frame_pool;

TEST_CASE("the frame pool hands back the memory of returned frames, within its bounds") {
  frame_pool pool;
  CHECK(pool.take().capacity() == 0);  // empty pool: a fresh buffer

  frame_bytes a(1 << 20);
  const uint8_t* memory = a.data();
  pool.give(std::move(a));
  CHECK(pool.size() == 1);
  frame_bytes b = pool.take();
  CHECK(b.empty());
  CHECK(b.capacity() >= (1u << 20));
  CHECK(b.data() == memory);  // the same memory: no fresh pages to fault in
  CHECK(pool.size() == 0);

  frame_bytes too_big(frame_pool::max_buffer_capacity + 1);
  pool.give(std::move(too_big));
  CHECK(pool.size() == 0);

  for (size_t i = 0; i < frame_pool::max_buffers + 3; ++i) pool.give(frame_bytes(4096));
  CHECK(pool.size() == frame_pool::max_buffers);
}

TEST_CASE("frame bytes grow without being zero-filled, keeping what was written") {
  frame_bytes f;
  f.resize(3);
  f[0] = 1, f[1] = 2, f[2] = 3;
  f.resize(1 << 16);  // new bytes are left as they are: the socket read fills them
  CHECK(f[0] == 1);
  CHECK(f[2] == 3);
  CHECK(f.size() == (1u << 16));
}
