// The operating-system calls the storage layer needs, behind one small interface so that a port to another
// OS replaces one implementation file (file_io_posix.cpp). Results are io_status values carrying the errno
// (ports map their own codes onto errno values) so callers can tell a full disk (ENOSPC) from other failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

namespace brook::common::os {

// Outcome of one OS call: ok, or the errno it failed with and what was being done.
struct io_status {
  int sys_errno = 0;
  std::string what;  // the operation and path, for messages

  bool ok() const { return sys_errno == 0; }
  explicit operator bool() const { return ok(); }
  bool no_space() const;
  // Out of descriptors or kernel memory (EMFILE, ENFILE, ENOMEM): the process ran short, the disk did
  // not fail. The one place that tells resource errors from storage errors: callers fail the request
  // with it and leave the log dir online.
  bool resource_exhausted() const;
  std::string message() const;  // "what: strerror"

  static io_status failure(int err, std::string what) { return io_status{err == 0 ? -1 : err, std::move(what)}; }
};

// An open file (or socket) descriptor, closed on destruction. Move-only.
class file_handle {
 public:
  file_handle() = default;
  explicit file_handle(int fd) : fd_(fd) {}
  ~file_handle();
  file_handle(file_handle&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  file_handle& operator=(file_handle&& o) noexcept;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;

  int native() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void close();

 private:
  int fd_ = -1;
};

enum class open_mode {
  read_only,
  read_write,         // must exist
  read_write_create,  // created empty if missing, kept otherwise
  create_truncate,    // created, or emptied if it exists
};

io_status open_file(const std::filesystem::path& path, open_mode mode, file_handle& out);

// Writes all of `data` at `offset`, or fails; after a failure some prefix may have been written.
io_status write_at(const file_handle& f, std::span<const uint8_t> data, uint64_t offset);

// Reads up to data.size() bytes at `offset`; bytes_read is less only at end of file.
io_status read_at(const file_handle& f, std::span<uint8_t> data, uint64_t offset, size_t& bytes_read);

io_status file_size(const file_handle& f, uint64_t& size);
io_status truncate_file(const file_handle& f, uint64_t size);

// fdatasync: the file's data and the metadata needed to read it back (its size) reach the disk.
io_status sync_data(const file_handle& f);
// fsync: data and all metadata.
io_status sync_all(const file_handle& f);
// Makes entries created, renamed or removed in `dir` durable.
io_status sync_directory(const std::filesystem::path& dir);

// Reserves disk space for [offset, offset + length) without changing the file size; a no-op where the
// filesystem cannot do it.
io_status preallocate(const file_handle& f, uint64_t offset, uint64_t length);

// Copies `count` bytes of `in` from `offset` to the descriptor `out_fd` (a socket or file) with sendfile,
// falling back to read + write where sendfile is unavailable. `sent` may end below `count` when out_fd is
// non-blocking and full (EAGAIN is then not an error): the caller sends the rest later.
io_status send_file(int out_fd, const file_handle& in, uint64_t offset, size_t count, size_t& sent);

// Makes a write to a socket whose peer has gone (sendfile has no MSG_NOSIGNAL) fail with EPIPE in the
// calling thread instead of raising SIGPIPE, without changing the process's signal dispositions (the broker
// may be embedded in another program). Call it on every thread that sends to sockets.
void suppress_broken_pipe_signal_on_this_thread();

// Takes an exclusive advisory lock on `path` (created if missing), held while `out` stays open. Fails with
// EWOULDBLOCK when another process holds it.
io_status lock_file(const std::filesystem::path& path, file_handle& out);

// The size of the filesystem holding `path` and the bytes an unprivileged process may still write to
// it (statvfs: f_blocks and f_bavail, in f_frsize units).
struct filesystem_space {
  uint64_t total_bytes = 0;
  uint64_t usable_bytes = 0;
};
io_status space_of(const std::filesystem::path& path, filesystem_space& out);

// rename(2): atomic replacement of `to` on POSIX filesystems.
io_status rename_path(const std::filesystem::path& from, const std::filesystem::path& to);
io_status remove_path(const std::filesystem::path& path);  // a missing path is not an error

// Raises this process's open-file limit to the most it may have (a broker keeps a few files open
// per partition). Returns the limit now in force.
uint64_t raise_open_file_limit();
// The open-file limit in force (0 where unknown).
uint64_t open_file_limit();

// Test hook for disk faults. When set, it is called before each write_at, sync_data, sync_all and
// sync_directory; returning a non-zero errno makes the call fail with it. For writes, setting
// `partial_bytes` first writes that many bytes (as a disk that fills up mid-write does). Not for production.
enum class io_op { write, sync };
using fault_injector = std::function<int(io_op op, size_t& partial_bytes)>;
void set_fault_injector(fault_injector injector);  // an empty function clears it

}  // namespace brook::common::os
