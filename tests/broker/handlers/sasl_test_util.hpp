// What the SASL handler tests share: a broker whose only listener is SASL_PLAINTEXT with SASL/PLAIN
// users alice (alice-secret) and bob (bob-secret).
#pragma once

#include <string>
#include <vector>

namespace brook::test {

// broker_fixture overrides for that listener, then `more`.
inline std::vector<std::string> sasl_plain_listener(std::vector<std::string> more = {}) {
  std::vector<std::string> o{
      "listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
      "required user_alice=\"alice-secret\" user_bob=\"bob-secret\";"};
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

}  // namespace brook::test
