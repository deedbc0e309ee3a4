// SASL/PLAIN on the broker side (RFC 4616), as Kafka's PlainSaslServer with its default
// PlainServerCallbackHandler: the users are the `user_<name>="<password>"` options of the listener's
// PlainLoginModule JAAS entry. One client token, [authzid] NUL authcid NUL password, is checked in
// constant time per password; a wrong name or a wrong password get the same answer, as in Kafka.
// Pure and immutable once built: shared by every connection of the listener.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "broker/security/jaas_config.hpp"
#include "broker/security/sasl_server.hpp"
#include "common/error.hpp"

namespace brook::broker::security {

class sasl_plain_users {
 public:
  // From the JAAS configuration of a listener's PLAIN mechanism: its PlainLoginModule entry's
  // user_<name> options. Errors (invalid_config): no org.apache.kafka.common.security.plain.PlainLoginModule entry.
  static common::result<sasl_plain_users> from_jaas(std::string_view config_name, std::string_view jaas_text);
  explicit sasl_plain_users(std::map<std::string, std::string> passwords) : passwords_(std::move(passwords)) {}

  // The authenticated user name of a client's PLAIN token, or sasl_authentication_failed with Kafka's
  // message ("Authentication failed: Invalid username or password" for any wrong name or password).
  common::result<std::string> authenticate(std::string_view token) const;

  size_t size() const { return passwords_.size(); }

 private:
  std::map<std::string, std::string> passwords_;
};

// One PLAIN exchange against `users`: a single client token, then success or failure.
std::unique_ptr<sasl_server> make_plain_server(std::shared_ptr<const sasl_plain_users> users);

}  // namespace brook::broker::security
