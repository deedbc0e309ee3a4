#include "broker/security/scram_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace brook::broker::security {

namespace {

using common::kafka_error;

const EVP_MD* scram_digest(scram_mechanism mechanism) {
  return mechanism == scram_mechanism::sha_512 ? EVP_sha512() : EVP_sha256();
}

std::span<const uint8_t> scram_ascii_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The user's entries of an alteration request, as Kafka's controller tracks them: first appearance
// order, and which of the maps (deletions, upsertions, errors) holds the user.
struct pending_users {
  std::vector<std::string> order;
  std::map<std::string, const scram_deletion*> deletions;
  std::map<std::string, const scram_upsertion*> upsertions;
  std::map<std::string, common::error> errors;

  void note(const std::string& user) {
    if (!deletions.count(user) && !upsertions.count(user) && !errors.count(user)) order.push_back(user);
  }
};

// Kafka's validateScramUsernameAndMechanism.
std::optional<common::error> invalid_user_or_mechanism(const std::string& user, int8_t mechanism) {
  if (user.empty()) return common::error{kafka_error::unacceptable_credential, "Username must not be empty"};
  if (!scram_mechanism_of_type(mechanism))
    return common::error{kafka_error::unsupported_sasl_mechanism, "Unknown SCRAM mechanism"};
  return std::nullopt;
}

const common::error duplicate_user{kafka_error::duplicate_resource,
                                   "A user credential cannot be altered twice in the same request"};

}  // namespace

std::optional<scram_mechanism> scram_mechanism_named(std::string_view name) {
  if (name == "SCRAM-SHA-256") return scram_mechanism::sha_256;
  if (name == "SCRAM-SHA-512") return scram_mechanism::sha_512;
  return std::nullopt;
}

std::optional<scram_mechanism> scram_mechanism_of_type(int8_t type) {
  if (type == static_cast<int8_t>(scram_mechanism::sha_256)) return scram_mechanism::sha_256;
  if (type == static_cast<int8_t>(scram_mechanism::sha_512)) return scram_mechanism::sha_512;
  return std::nullopt;
}

std::string_view scram_mechanism_name(scram_mechanism mechanism) {
  return mechanism == scram_mechanism::sha_512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
}

scram_bytes scram_hash(scram_mechanism mechanism, std::span<const uint8_t> data) {
  scram_bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, scram_digest(mechanism), nullptr) != 1)
    throw std::runtime_error("OpenSSL digest failed");
  out.resize(size);
  return out;
}

scram_bytes scram_hmac(scram_mechanism mechanism, std::span<const uint8_t> key, std::span<const uint8_t> data) {
  scram_bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  // OpenSSL takes a null key pointer as "no key"; an empty key is still a key.
  static const uint8_t no_byte = 0;
  if (!HMAC(scram_digest(mechanism), key.empty() ? &no_byte : key.data(), static_cast<int>(key.size()), data.data(),
            data.size(), out.data(), &size))
    throw std::runtime_error("OpenSSL HMAC failed");
  out.resize(size);
  return out;
}

scram_bytes scram_salted_password(scram_mechanism mechanism, std::string_view password, std::span<const uint8_t> salt,
                                  int32_t iterations) {
  // Hi() is PBKDF2 with the mechanism's HMAC and one block of output (RFC 5802 section 2.2).
  scram_bytes out(static_cast<size_t>(EVP_MD_get_size(scram_digest(mechanism))));
  static const uint8_t no_byte = 0;
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.empty() ? &no_byte : salt.data(),
                        static_cast<int>(salt.size()), iterations, scram_digest(mechanism), static_cast<int>(out.size()),
                        out.data()) != 1)
    throw std::runtime_error("OpenSSL PBKDF2 failed");
  return out;
}

scram_bytes scram_client_key(scram_mechanism mechanism, std::span<const uint8_t> salted_password) {
  return scram_hmac(mechanism, salted_password, scram_ascii_bytes("Client Key"));
}

scram_bytes scram_server_key(scram_mechanism mechanism, std::span<const uint8_t> salted_password) {
  return scram_hmac(mechanism, salted_password, scram_ascii_bytes("Server Key"));
}

scram_credential scram_credential_from_salted_password(scram_mechanism mechanism, std::span<const uint8_t> salt,
                                                       std::span<const uint8_t> salted_password, int32_t iterations) {
  scram_credential c;
  c.salt.assign(salt.begin(), salt.end());
  c.stored_key = scram_hash(mechanism, scram_client_key(mechanism, salted_password));
  c.server_key = scram_server_key(mechanism, salted_password);
  c.iterations = iterations;
  return c;
}

// ---- scram_credentials ----------------------------------------------------------------------

scram_credentials::scram_credentials() : current_(std::make_shared<const credential_map>()) {}

std::array<uint8_t, 32> scram_credentials::decoy_key() const {
  std::lock_guard lock(decoy_mu_);
  if (!decoy_key_made_) {
    if (RAND_bytes(decoy_key_.data(), static_cast<int>(decoy_key_.size())) != 1)
      throw std::runtime_error("OpenSSL has no randomness for the SCRAM decoy key");
    decoy_key_made_ = true;
  }
  return decoy_key_;
}

void scram_credentials::publish(std::shared_ptr<const credential_map> next) {
  std::lock_guard lock(mu_);
  current_ = std::move(next);
}

std::shared_ptr<const scram_credentials::credential_map> scram_credentials::snapshot() const {
  std::lock_guard lock(mu_);
  return current_;
}

void scram_credentials::load(const std::vector<log::scram_credential_record>& records) {
  auto next = std::make_shared<credential_map>();
  for (const auto& r : records) {
    auto mechanism = scram_mechanism_of_type(r.mechanism);
    if (!mechanism || r.name.empty()) continue;
    (*next)[r.name][*mechanism] = scram_credential{r.salt, r.stored_key, r.server_key, r.iterations};
  }
  publish(std::move(next));
}

void scram_credentials::clear() { publish(std::make_shared<const credential_map>()); }

std::optional<scram_credential> scram_credentials::find(std::string_view user, scram_mechanism mechanism) const {
  auto held = snapshot();
  auto it = held->find(user);
  if (it == held->end()) return std::nullopt;
  auto m = it->second.find(mechanism);
  if (m == it->second.end()) return std::nullopt;
  return m->second;
}

scram_credential scram_credentials::decoy(std::string_view user, scram_mechanism mechanism) const {
  // The salt looks like the ones Kafka's tools make (a random base-36 string of about 26 characters).
  std::string input(scram_mechanism_name(mechanism));
  input.push_back('\0');
  input.append(user);
  const scram_bytes mac = scram_hmac(scram_mechanism::sha_256, decoy_key(), scram_ascii_bytes(input));
  static constexpr std::string_view digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  scram_credential c;
  for (size_t i = 0; i < 26; ++i) c.salt.push_back(static_cast<uint8_t>(digits[mac[i] % digits.size()]));
  c.iterations = scram_min_iterations;
  // Keys no proof can match: the exchange fails at the proof, as for a wrong password.
  c.stored_key = scram_hash(mechanism, mac);
  c.server_key = c.stored_key;
  return c;
}

scram_change scram_credentials::alter(const std::vector<scram_deletion>& deletions,
                                      const std::vector<scram_upsertion>& upsertions) const {
  // ScramControlManager.alterCredentials: a user already failed is not looked at again; a user seen
  // before (deletion or upsertion, any mechanism) fails with DUPLICATE_RESOURCE and its earlier entry
  // is dropped.
  pending_users users;
  auto held = snapshot();
  for (const auto& d : deletions) {
    users.note(d.user);
    if (users.errors.count(d.user)) continue;
    if (users.deletions.erase(d.user)) {
      users.errors.emplace(d.user, duplicate_user);
      continue;
    }
    if (auto invalid = invalid_user_or_mechanism(d.user, d.mechanism)) {
      users.errors.emplace(d.user, *invalid);
      continue;
    }
    auto user = held->find(d.user);
    if (user == held->end() || !user->second.count(*scram_mechanism_of_type(d.mechanism))) {
      users.errors.emplace(d.user, common::error{kafka_error::resource_not_found,
                                                 "Attempt to delete a user credential that does not exist"});
      continue;
    }
    users.deletions.emplace(d.user, &d);
  }
  for (const auto& u : upsertions) {
    users.note(u.user);
    if (users.errors.count(u.user)) continue;
    const bool was_deleted = users.deletions.erase(u.user) > 0;
    const bool was_upserted = users.upsertions.erase(u.user) > 0;
    if (was_deleted || was_upserted) {
      users.errors.emplace(u.user, duplicate_user);
      continue;
    }
    if (auto invalid = invalid_user_or_mechanism(u.user, u.mechanism)) {
      users.errors.emplace(u.user, *invalid);
      continue;
    }
    if (u.iterations < scram_min_iterations) {
      users.errors.emplace(u.user, common::error{kafka_error::unacceptable_credential, "Too few iterations"});
      continue;
    }
    if (u.iterations > scram_max_iterations) {
      users.errors.emplace(u.user, common::error{kafka_error::unacceptable_credential, "Too many iterations"});
      continue;
    }
    users.upsertions.emplace(u.user, &u);
  }

  scram_change change;
  for (const auto& name : users.order)
    if (auto it = users.deletions.find(name); it != users.deletions.end()) {
      change.results.push_back({name, {}});
      change.deletions.push_back({name, it->second->mechanism});
    }
  for (const auto& name : users.order)
    if (auto it = users.upsertions.find(name); it != users.upsertions.end()) {
      const scram_upsertion& u = *it->second;
      const auto mechanism = *scram_mechanism_of_type(u.mechanism);
      const scram_credential c = scram_credential_from_salted_password(mechanism, u.salt, u.salted_password,
                                                                       u.iterations);
      log::scram_credential_record r;
      r.name = u.user;
      r.mechanism = u.mechanism;
      r.salt = c.salt;
      r.stored_key = c.stored_key;
      r.server_key = c.server_key;
      r.iterations = c.iterations;
      change.puts.push_back(std::move(r));
      change.results.push_back({name, {}});
    }
  for (const auto& name : users.order)
    if (auto it = users.errors.find(name); it != users.errors.end()) change.results.push_back({name, it->second});
  return change;
}

void scram_credentials::apply(const scram_change& change) {
  auto next = std::make_shared<credential_map>(*snapshot());
  for (const auto& d : change.deletions) {
    auto user = next->find(d.user);
    if (user == next->end()) continue;
    if (auto mechanism = scram_mechanism_of_type(d.mechanism)) user->second.erase(*mechanism);
    if (user->second.empty()) next->erase(user);
  }
  for (const auto& r : change.puts)
    if (auto mechanism = scram_mechanism_of_type(r.mechanism))
      (*next)[r.name][*mechanism] = scram_credential{r.salt, r.stored_key, r.server_key, r.iterations};
  publish(std::move(next));
}

}  // namespace brook::broker::security
