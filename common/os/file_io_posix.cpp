// POSIX (Linux) implementation of common/os/file_io.hpp.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/os/file_io.hpp"

namespace brook::common::os {

namespace {

std::atomic<bool> injector_set{false};
std::mutex injector_mutex;
fault_injector injector;

// Returns the errno the test hook wants this call to fail with (0: proceed).
int injected_fault(io_op op, size_t& partial_bytes) {
  if (!injector_set.load(std::memory_order_acquire)) return 0;
  std::lock_guard lock(injector_mutex);
  return injector ? injector(op, partial_bytes) : 0;
}

io_status fail(std::string what) { return io_status::failure(errno, std::move(what)); }

}  // namespace

bool io_status::no_space() const { return sys_errno == ENOSPC || sys_errno == EDQUOT; }
bool io_status::resource_exhausted() const { return sys_errno == EMFILE || sys_errno == ENFILE || sys_errno == ENOMEM; }

std::string io_status::message() const {
  if (ok()) return "ok";
  return what + ": " + (sys_errno > 0 ? std::strerror(sys_errno) : "unknown error");
}

file_handle::~file_handle() { close(); }

file_handle& file_handle::operator=(file_handle&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void file_handle::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

io_status open_file(const std::filesystem::path& path, open_mode mode, file_handle& out) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case open_mode::read_only: flags |= O_RDONLY; break;
    case open_mode::read_write: flags |= O_RDWR; break;
    case open_mode::read_write_create: flags |= O_RDWR | O_CREAT; break;
    case open_mode::create_truncate: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return fail("open " + path.string());
  out = file_handle(fd);
  return {};
}

io_status write_at(const file_handle& f, std::span<const uint8_t> data, uint64_t offset) {
  size_t partial = 0;
  if (int err = injected_fault(io_op::write, partial)) {
    partial = std::min(partial, data.size());
    if (partial > 0 && ::pwrite(f.native(), data.data(), partial, static_cast<off_t>(offset)) < 0)
      return fail("pwrite");
    return io_status::failure(err, "pwrite (injected)");
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(f.native(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("pwrite");
    }
    if (n == 0) return io_status::failure(EIO, "pwrite wrote nothing");
    done += static_cast<size_t>(n);
  }
  return {};
}

io_status read_at(const file_handle& f, std::span<uint8_t> data, uint64_t offset, size_t& bytes_read) {
  bytes_read = 0;
  while (bytes_read < data.size()) {
    ssize_t n = ::pread(f.native(), data.data() + bytes_read, data.size() - bytes_read,
                        static_cast<off_t>(offset + bytes_read));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("pread");
    }
    if (n == 0) break;
    bytes_read += static_cast<size_t>(n);
  }
  return {};
}

io_status file_size(const file_handle& f, uint64_t& size) {
  struct stat st;
  if (::fstat(f.native(), &st) != 0) return fail("fstat");
  size = static_cast<uint64_t>(st.st_size);
  return {};
}

io_status space_of(const std::filesystem::path& path, filesystem_space& out) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return fail("statvfs " + path.string());
  out.total_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  out.usable_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  return {};
}

io_status truncate_file(const file_handle& f, uint64_t size) {
  while (::ftruncate(f.native(), static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return fail("ftruncate");
  }
  return {};
}

io_status sync_data(const file_handle& f) {
  size_t unused = 0;
  if (int err = injected_fault(io_op::sync, unused)) return io_status::failure(err, "fdatasync (injected)");
  if (::fdatasync(f.native()) != 0) return fail("fdatasync");
  return {};
}

io_status sync_all(const file_handle& f) {
  size_t unused = 0;
  if (int err = injected_fault(io_op::sync, unused)) return io_status::failure(err, "fsync (injected)");
  if (::fsync(f.native()) != 0) return fail("fsync");
  return {};
}

io_status sync_directory(const std::filesystem::path& dir) {
  size_t unused = 0;
  if (int err = injected_fault(io_op::sync, unused)) return io_status::failure(err, "fsync dir (injected)");
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("open dir " + dir.string());
  file_handle h(fd);
  if (::fsync(fd) != 0) return fail("fsync dir " + dir.string());
  return {};
}

io_status preallocate(const file_handle& f, uint64_t offset, uint64_t length) {
#ifdef FALLOC_FL_KEEP_SIZE
  if (::fallocate(f.native(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) return {};
    return fail("fallocate");
  }
#endif
  return {};
}

void suppress_broken_pipe_signal_on_this_thread() {
  // Blocked, SIGPIPE stays pending on this thread and the write just fails with EPIPE.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
}

io_status send_file(int out_fd, const file_handle& in, uint64_t offset, size_t count, size_t& sent) {
  sent = 0;
  bool use_sendfile = true;
  std::vector<uint8_t> buffer;
  while (sent < count) {
    if (use_sendfile) {
      off_t pos = static_cast<off_t>(offset + sent);
      ssize_t n = ::sendfile(out_fd, in.native(), &pos, count - sent);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) return io_status::failure(EIO, "sendfile: file shorter than region");
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return {};
      if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return fail("sendfile");
      use_sendfile = false;  // this pair of descriptors cannot use sendfile: copy through user space
    }
    if (buffer.empty()) buffer.resize(64 * 1024);
    size_t want = std::min(buffer.size(), count - sent);
    size_t got = 0;
    if (auto st = read_at(in, std::span(buffer.data(), want), offset + sent, got); !st) return st;
    if (got == 0) return io_status::failure(EIO, "read: file shorter than region");
    size_t written = 0;
    while (written < got) {
      ssize_t n = ::write(out_fd, buffer.data() + written, got - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          sent += written;
          return {};
        }
        return fail("write");
      }
      written += static_cast<size_t>(n);
    }
    sent += written;
  }
  return {};
}

io_status lock_file(const std::filesystem::path& path, file_handle& out) {
  file_handle h;
  if (auto st = open_file(path, open_mode::read_write_create, h); !st) return st;
  if (::flock(h.native(), LOCK_EX | LOCK_NB) != 0) return fail("flock " + path.string());
  out = std::move(h);
  return {};
}

io_status rename_path(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fail("rename " + from.string() + " -> " + to.string());
  return {};
}

io_status remove_path(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail("unlink " + path.string());
  return {};
}

void set_fault_injector(fault_injector f) {
  std::lock_guard lock(injector_mutex);
  injector = std::move(f);
  injector_set.store(static_cast<bool>(injector), std::memory_order_release);
}

uint64_t raise_open_file_limit() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    struct rlimit wanted = limit;
    wanted.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &wanted) == 0) limit = wanted;
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

}  // namespace brook::common::os

namespace brook::common::os {
uint64_t open_file_limit() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<uint64_t>(limit.rlim_cur);
}
}  // namespace brook::common::os
