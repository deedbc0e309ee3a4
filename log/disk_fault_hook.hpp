// A hook through which a test harness makes the log's own disk operations fail (fault injection).
//
// The log asks the hook before each append to a segment and before each fdatasync of a partition's
// data; a non-zero answer is an errno (ENOSPC, EIO) that the log then treats exactly as if the
// operating system had returned it, so the caller sees the log's real error path (KAFKA_STORAGE_ERROR;
// a full disk fails the one append, an I/O error fails the log dir). The hook is owned outside the log
// (the broker's fault injector), outlives every log it is given to, and is called from whichever
// thread runs the partition (any thread): implementations are thread-safe.
#pragma once

#include <string_view>

namespace brook::log {

enum class disk_op { append, fsync };

class disk_fault_hook {
 public:
  virtual ~disk_fault_hook() = default;
  // 0 to go ahead; otherwise the errno the operation fails with. `topic` is the partition's topic.
  virtual int before_disk_op(disk_op op, std::string_view topic) = 0;
};

}  // namespace brook::log
