// What the `brook` tool's command files share: the global options, the admin client they open from
// them, error reporting with the tool's exit codes, and plain-text tables.
//
// Each command group lives in its own file and exposes one add_<group>_commands() that main.cpp
// calls; a command's callback stores its exit code in the context. A new group (produce, consume,
// perf, ...) is a new <group>_commands.cpp (CMake picks it up), its add_<group>_commands() declared
// below and one call in main.cpp.
// Owner: main() owns the one context for the process; single-threaded.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "brook/client/admin.hpp"

namespace brook::client::cli {

// Exit codes: 0 success, 1 an error from Kafka (or the connection), 2 a usage error.
enum exit_status : int { exit_ok = 0, exit_kafka_error = 1, exit_usage = 2 };

// Thrown by a command for a bad argument that CLI11 cannot check itself; reported with exit 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class context {
 public:
  std::string bootstrap = "localhost:9092";
  std::vector<std::string> properties;  // -X key=value
  std::string command_config;           // --command-config FILE (key=value lines)
  int exit = exit_ok;

  // The client properties from the options above (-X wins over the file, -b over both).
  admin_properties client_properties() const;
  // Opens the admin client on first use. Throws usage_error for a bad property.
  admin_client& admin();
  // The admin client produce, consume and perf look topics up with. Those commands take producer or
  // consumer properties, which their own client checks; this one gets only the connection keys every
  // client shares.
  admin_client& lookup_admin();

  // Runs a command body, turning usage_error into exit 2 and storing the body's exit code.
  template <class Body>
  void run(Body&& body) {
    try {
      exit = body();
    } catch (const usage_error& e) {
      exit = usage(e.what());
    }
  }

  static int usage(const std::string& message);

 private:
  std::optional<admin_client> admin_;
  std::optional<admin_client> lookup_admin_;
};

// Prints "Error: <message> (KAFKA_ERROR_NAME)" to stderr; returns exit_kafka_error.
int report(const error& e);
// Kafka's upper-case name of an error code: UNKNOWN_TOPIC_OR_PARTITION.
std::string error_label(kafka_error code);
// "key=value" split at the first '='; usage_error naming `what` when there is none or the key is empty.
std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what);

// Left-aligned columns separated by two spaces, with a header row.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

void add_topic_commands(CLI::App& app, context& ctx);
void add_group_commands(CLI::App& app, context& ctx);
void add_produce_commands(CLI::App& app, context& ctx);
void add_consume_commands(CLI::App& app, context& ctx);
void add_perf_commands(CLI::App& app, context& ctx);

}  // namespace brook::client::cli
