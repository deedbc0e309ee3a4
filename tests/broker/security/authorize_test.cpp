// The handlers' checks of a request (broker/security/authorize.hpp): the client's host as ACLs name
// it, and the answers without an authorizer.
#include <catch2/catch.hpp>

#include <boost/asio/ip/address.hpp>

#include "broker/security/authorize.hpp"
#include "broker/handlers/broker_fixture.hpp"

namespace {

brook::broker::request_context context_from(brook::broker::broker& owner,
                                            const brook::common::protocol::request_header& header,
                                            const std::string& address) {
  brook::broker::request_context ctx{owner, header};
  ctx.remote = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(address), 50000);
  return ctx;
}

}  // namespace

TEST_CASE("the client's host is named as Kafka's InetAddress.getHostAddress prints it") {
  brook::test::broker_fixture b;
  const brook::common::protocol::request_header header{};
  auto host_of = [&](const std::string& address) {
    return brook::broker::security::client_host(context_from(b.server(), header, address));
  };
  CHECK(host_of("10.1.2.3") == "10.1.2.3");
  CHECK(host_of("::ffff:10.1.2.3") == "10.1.2.3");  // an IPv4 client of a dual-stack listener
  CHECK(host_of("::1") == "0:0:0:0:0:0:0:1");
  CHECK(host_of("fd00::ab:c") == "fd00:0:0:0:0:0:ab:c");
}

TEST_CASE("without an authorizer every check is allowed and every supported operation reported") {
  namespace sec = brook::broker::security;
  brook::test::broker_fixture b;
  const brook::common::protocol::request_header header{};
  auto ctx = context_from(b.server(), header, "10.1.2.3");
  CHECK(sec::authorized(ctx, sec::acl_operation::delete_, sec::resource_type::topic, "t"));
  CHECK(sec::authorized_on_cluster(ctx, sec::acl_operation::alter));
  CHECK(sec::authorized_by_resource_type(ctx, sec::acl_operation::write, sec::resource_type::topic));
  // READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
  CHECK(sec::authorized_operations(ctx, sec::resource_type::topic, "t") ==
        ((1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11)));
  // DESCRIBE, WRITE, TWO_PHASE_COMMIT
  CHECK(sec::authorized_operations(ctx, sec::resource_type::transactional_id, "tx") ==
        ((1 << 8) | (1 << 4) | (1 << 15)));
}
