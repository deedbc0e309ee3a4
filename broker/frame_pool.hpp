// Request frame buffers and the network thread's pool of them.
//
// Every request is read into a buffer of its own size. Two costs of a fresh buffer are avoided: its
// bytes are not zero-filled (frame_bytes leaves them uninitialised; the socket read fills them at
// once), and the buffers of finished requests are kept for the next ones, so that large frames do not
// fault in fresh pages each time. A Produce request's record batches are appended straight from its
// frame (they borrow it; see protocol::record_set), so a frame is the only copy of them in user space.
//
// Owned by the broker; used only on the network thread. Keeps at most max_buffers buffers, each of at
// most max_buffer_capacity bytes: memory held for reuse is bounded for the whole broker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace brook::broker {

// An allocator whose value-initialisation (what vector::resize does) leaves bytes uninitialised.
template <class T>
struct uninitialised_allocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = uninitialised_allocator<U>;
  };
  uninitialised_allocator() = default;
  template <class U>
  uninitialised_allocator(const uninitialised_allocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using frame_bytes = std::vector<uint8_t, uninitialised_allocator<uint8_t>>;

class frame_pool {
 public:
  static constexpr size_t max_buffers = 16;
  static constexpr size_t max_buffer_capacity = 4 << 20;

  // An empty buffer, with the capacity of a recently returned one when there is one.
  frame_bytes take() {
    if (free_.empty()) return {};
    frame_bytes b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Keeps `b`'s memory for a later take(), or frees it when the pool is full or `b` is too large.
  void give(frame_bytes&& b) {
    frame_bytes done = std::move(b);
    if (free_.size() >= max_buffers || done.capacity() == 0 || done.capacity() > max_buffer_capacity) return;
    done.clear();
    free_.push_back(std::move(done));
  }
  size_t size() const { return free_.size(); }

 private:
  std::vector<frame_bytes> free_;
};

}  // namespace brook::broker
