#include "common/os/file_io.hpp"

#include <catch2/catch.hpp>
#include <errno.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <vector>

namespace os = brook::common::os;
namespace fs = std::filesystem;

namespace {
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    path = fs::temp_directory_path() / ("brook-file-io-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
};
}  // namespace

TEST_CASE("positional writes, reads, size and truncation") {
  scratch_dir dir;
  os::file_handle f;
  REQUIRE(os::open_file(dir.path / "f", os::open_mode::create_truncate, f));
  std::vector<uint8_t> data(10000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  REQUIRE(os::write_at(f, data, 0));
  REQUIRE(os::sync_data(f));
  uint64_t size = 0;
  REQUIRE(os::file_size(f, size));
  CHECK(size == 10000);
  std::vector<uint8_t> back(20000);
  size_t got = 0;
  REQUIRE(os::read_at(f, back, 100, got));
  CHECK(got == 9900);
  CHECK(std::equal(data.begin() + 100, data.end(), back.begin()));
  REQUIRE(os::truncate_file(f, 50));
  REQUIRE(os::file_size(f, size));
  CHECK(size == 50);
  REQUIRE(os::preallocate(f, 0, 1 << 20));
  REQUIRE(os::file_size(f, size));
  CHECK(size == 50);  // preallocation keeps the size
  REQUIRE(os::sync_directory(dir.path));
}

TEST_CASE("send_file copies a region to a pipe and to a file") {
  scratch_dir dir;
  os::file_handle f;
  REQUIRE(os::open_file(dir.path / "src", os::open_mode::create_truncate, f));
  std::vector<uint8_t> data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  REQUIRE(os::write_at(f, data, 0));

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  os::file_handle rd(fds[0]), wr(fds[1]);
  size_t sent = 0;
  REQUIRE(os::send_file(wr.native(), f, 1000, 3000, sent));
  CHECK(sent == 3000);
  std::vector<uint8_t> got(3000);
  size_t total = 0;
  while (total < got.size()) {
    ssize_t n = ::read(rd.native(), got.data() + total, got.size() - total);
    REQUIRE(n > 0);
    total += static_cast<size_t>(n);
  }
  CHECK(std::equal(got.begin(), got.end(), data.begin() + 1000));

  os::file_handle out;
  REQUIRE(os::open_file(dir.path / "dst", os::open_mode::create_truncate, out));
  REQUIRE(os::send_file(out.native(), f, 0, 5000, sent));
  CHECK(sent == 5000);
  std::vector<uint8_t> copy(5000);
  REQUIRE(os::read_at(out, copy, 0, total));
  CHECK(copy == data);
}

TEST_CASE("a locked file cannot be locked twice") {
  scratch_dir dir;
  os::file_handle a, b;
  REQUIRE(os::lock_file(dir.path / ".lock", a));
  auto st = os::lock_file(dir.path / ".lock", b);
  CHECK_FALSE(st.ok());
  CHECK(st.sys_errno == EWOULDBLOCK);
  a.close();
  CHECK(os::lock_file(dir.path / ".lock", b));
}

TEST_CASE("the fault injector fails writes after a partial write, and syncs") {
  scratch_dir dir;
  os::file_handle f;
  REQUIRE(os::open_file(dir.path / "f", os::open_mode::create_truncate, f));
  os::set_fault_injector([](os::io_op op, size_t& partial) {
    if (op == os::io_op::write) partial = 3;
    return op == os::io_op::write ? ENOSPC : EIO;
  });
  std::vector<uint8_t> data(10, 1);
  auto st = os::write_at(f, data, 0);
  auto sync = os::sync_data(f);
  os::set_fault_injector({});
  CHECK(st.no_space());
  CHECK(sync.sys_errno == EIO);
  uint64_t size = 0;
  REQUIRE(os::file_size(f, size));
  CHECK(size == 3);
  CHECK(os::write_at(f, data, 0));
}

TEST_CASE("space_of reports the filesystem's size and the room left on it, as df does") {
  scratch_dir dir;
  os::filesystem_space space;
  REQUIRE(os::space_of(dir.path, space));
  CHECK(space.total_bytes > 0);
  CHECK(space.usable_bytes <= space.total_bytes);
  const auto info = fs::space(dir.path);  // the same statvfs through the standard library
  CHECK(space.total_bytes == info.capacity);
  os::filesystem_space missing;
  auto status = os::space_of(dir.path / "no-such-dir", missing);
  CHECK_FALSE(status.ok());
  CHECK(status.sys_errno == ENOENT);
}
