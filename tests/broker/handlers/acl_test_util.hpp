// What the ACL handler tests share: brokers with an authorizer, ACL creations and filters for the
// wire, and in-process grants (the authorizer's ACLs changed on the broker's network thread, as
// CreateAcls changes them, without the store) for tests of other APIs' checks. Every test connection
// is User:ANONYMOUS from 127.0.0.1.
#pragma once

#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "broker/security/acl.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/create_acls.hpp"
#include "common/protocol/messages/delete_acls.hpp"
#include "common/protocol/messages/describe_acls.hpp"

namespace brook::test {

namespace sec = broker::security;

inline constexpr const char* standard_authorizer =
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer";
inline constexpr const char* test_principal = "User:ANONYMOUS";

inline proto::create_acls::acl_creation creation(sec::resource_type type, std::string name, sec::pattern_type pattern,
                                                 std::string principal, std::string host, sec::acl_operation op,
                                                 sec::permission_type permission) {
  return {static_cast<int8_t>(type), std::move(name), static_cast<int8_t>(pattern), std::move(principal),
          std::move(host),           static_cast<int8_t>(op), static_cast<int8_t>(permission)};
}

inline proto::create_acls::response create_acls(broker_fixture& b, std::vector<proto::create_acls::acl_creation> acls,
                                                int16_t version = 3) {
  proto::create_acls::request req;
  req.creations = std::move(acls);
  return b.call<proto::create_acls::response>(proto::create_acls::api_key, version, req);
}

// A DescribeAcls request matching everything.
inline proto::describe_acls::request describe_all() {
  proto::describe_acls::request req;
  req.resource_type_filter = static_cast<int8_t>(sec::resource_type::any);
  req.resource_name_filter = std::nullopt;
  req.pattern_type_filter = static_cast<int8_t>(sec::pattern_type::any);
  req.principal_filter = std::nullopt;
  req.host_filter = std::nullopt;
  req.operation = static_cast<int8_t>(sec::acl_operation::any);
  req.permission_type = static_cast<int8_t>(sec::permission_type::any);
  return req;
}

inline proto::describe_acls::response describe_acls(broker_fixture& b, const proto::describe_acls::request& req,
                                                    int16_t version = 3) {
  return b.call<proto::describe_acls::response>(proto::describe_acls::api_key, version, req);
}

// Every described ACL as "TYPE:PATTERN:name principal host OPERATION PERMISSION", in answer order.
inline std::vector<std::string> described(const proto::describe_acls::response& resp) {
  std::vector<std::string> out;
  for (const auto& r : resp.resources)
    for (const auto& a : r.acls)
      out.push_back(std::string(sec::name_of(sec::resource_type_of(r.resource_type))) + ":" +
                    std::string(sec::name_of(sec::pattern_type_of(r.pattern_type))) + ":" + r.resource_name + " " +
                    a.principal + " " + a.host + " " + std::string(sec::name_of(sec::operation_of(a.operation))) +
                    " " + std::string(sec::name_of(sec::permission_type_of(a.permission_type))));
  return out;
}

// Runs `fn` on the broker's network thread (where the authorizer lives) and waits for it.
template <class Fn>
void on_network_thread(broker_fixture& b, Fn fn) {
  std::promise<void> done;
  boost::asio::post(b.server().io(), [&] {
    fn();
    done.set_value();
  });
  done.get_future().get();
}

// Puts ACLs in force for the running broker (not stored).
inline void grant(broker_fixture& b, const std::vector<sec::acl_binding>& acls) {
  sec::authorizer* auth = b.server().authorizer();  // set when the broker opened
  REQUIRE(auth);
  on_network_thread(b, [&] {
    for (const auto& acl : acls) auth->add(acl);
  });
}

// An ALLOW or DENY for the test connection's principal from any host, on a literal resource name.
inline sec::acl_binding allowing(sec::resource_type type, std::string name, sec::acl_operation op,
                                 sec::pattern_type pattern = sec::pattern_type::literal) {
  return {type, pattern, std::move(name), test_principal, "*", op, sec::permission_type::allow};
}
inline sec::acl_binding denying(sec::resource_type type, std::string name, sec::acl_operation op) {
  return {type, sec::pattern_type::literal, std::move(name), test_principal, "*", op, sec::permission_type::deny};
}

}  // namespace brook::test
