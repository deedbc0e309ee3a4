#include "client/consuming/assignors/assignor.hpp"

#include "client/consuming/assignors/cooperative_sticky_assignor.hpp"
#include "client/consuming/assignors/range_assignor.hpp"
#include "client/consuming/assignors/round_robin_assignor.hpp"

namespace brook::client::consuming::assignors {

bool member_order(const member_subscription& a, const member_subscription& b) {
  if (a.group_instance_id && b.group_instance_id) {
    if (*a.group_instance_id != *b.group_instance_id) return *a.group_instance_id < *b.group_instance_id;
    return a.member_id < b.member_id;
  }
  if (a.group_instance_id) return true;
  if (b.group_instance_id) return false;
  return a.member_id < b.member_id;
}

std::unique_ptr<assignor> make_assignor(std::string_view name) {
  if (name == "range") return std::make_unique<range_assignor>();
  if (name == "roundrobin") return std::make_unique<round_robin_assignor>();
  if (name == "cooperative-sticky") return std::make_unique<cooperative_sticky_assignor>();
  return nullptr;
}

}  // namespace brook::client::consuming::assignors
