#include "cli.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>

namespace brook::client::cli {

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || trim(text.substr(0, eq)).empty())
    throw usage_error(fmt::format("{} '{}' is not key=value", what, text));
  return {trim(text.substr(0, eq)), trim(text.substr(eq + 1))};
}

admin_properties context::client_properties() const {
  admin_properties props;
  if (!command_config.empty()) {
    std::ifstream in(command_config);
    if (!in) throw usage_error(fmt::format("cannot read the command config file '{}'", command_config));
    std::string line;
    while (std::getline(in, line)) {
      const auto t = trim(line);
      if (t.empty() || t[0] == '#' || t[0] == '!') continue;
      props.insert_or_assign(split_key_value(t, "the command config line").first,
                             split_key_value(t, "the command config line").second);
    }
  }
  for (const auto& p : properties) {
    auto [key, value] = split_key_value(p, "the client property");
    props.insert_or_assign(key, value);
  }
  props.insert_or_assign("bootstrap.servers", bootstrap);
  return props;
}

admin_client& context::admin() {
  if (!admin_) {
    auto created = admin_client::create(client_properties());
    if (!created) throw usage_error(created.err().message);
    admin_.emplace(std::move(*created));
  }
  return *admin_;
}

admin_client& context::lookup_admin() {
  if (!lookup_admin_) {
    // The keys every Kafka client reads (and the admin's call timeout), as client/core's cluster options.
    static const std::set<std::string, std::less<>> shared = {
        "bootstrap.servers", "client.id", "request.timeout.ms", "default.api.timeout.ms",
        "socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms", "metadata.max.age.ms",
        "reconnect.backoff.ms", "reconnect.backoff.max.ms", "retry.backoff.ms", "retry.backoff.max.ms",
        "security.protocol", "client.dns.lookup", "connections.max.idle.ms", "send.buffer.bytes",
        "receive.buffer.bytes", "client.rack"};
    auto props = client_properties();
    std::erase_if(props, [](const auto& entry) { return !shared.count(entry.first); });
    auto created = admin_client::create(props);
    if (!created) throw usage_error(created.err().message);
    lookup_admin_.emplace(std::move(*created));
  }
  return *lookup_admin_;
}

int context::usage(const std::string& message) {
  std::cerr << "Error: " << message << "\nRun with --help for usage.\n";
  return exit_usage;
}

std::string error_label(kafka_error code) {
  std::string name(common::error_name(code));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  return name;
}

int report(const error& e) {
  std::cerr << "Error: " << e.message << " (" << error_label(e.code) << ")\n";
  return exit_kafka_error;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  };
  print(header);
  for (const auto& r : rows) print(r);
}

}  // namespace brook::client::cli
