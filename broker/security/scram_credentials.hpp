// SCRAM credentials (RFC 5802, RFC 7677) as Kafka keeps them: per user and mechanism, the salt, the
// iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey =
// HMAC(SaltedPassword, "Server Key"), with SaltedPassword = Hi(password, salt, iterations) (PBKDF2
// with the mechanism's HMAC). The password and the salted password are never kept.
//
// scram_credentials is the broker's in-memory copy of the credentials AlterUserScramCredentials
// stores. Owner: the broker. Changes come from the network thread in the store-first order of other
// broker state: load() at open, alter() works out a change, the caller writes it to the metadata
// store, then apply() makes it visible; clear() at reset. Lookups (find(), snapshot()) may come from
// any thread and never wait on IO: they copy a pointer to an immutable map under a short lock.
// Invariants: every credential held has a SCRAM-SHA-256 or SCRAM-SHA-512 mechanism, a non-empty
// user name and iterations within [scram_min_iterations, scram_max_iterations] as stored.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::security {

using scram_bytes = std::vector<uint8_t>;

// Kafka's ScramMechanism types (the int8 of the SCRAM APIs and of the stored record).
enum class scram_mechanism : int8_t { sha_256 = 1, sha_512 = 2 };

// Kafka's bounds for both mechanisms (ScramMechanism.minIterations, ScramControlManager.MAX_ITERATIONS).
constexpr int32_t scram_min_iterations = 4096;
constexpr int32_t scram_max_iterations = 16384;

// "SCRAM-SHA-256" / "SCRAM-SHA-512" and back; nullopt for any other name or type.
std::optional<scram_mechanism> scram_mechanism_named(std::string_view name);
std::optional<scram_mechanism> scram_mechanism_of_type(int8_t type);
std::string_view scram_mechanism_name(scram_mechanism mechanism);

// The mechanism's primitives (SHA-256 or SHA-512 and their HMACs), from OpenSSL.
scram_bytes scram_hash(scram_mechanism mechanism, std::span<const uint8_t> data);
scram_bytes scram_hmac(scram_mechanism mechanism, std::span<const uint8_t> key, std::span<const uint8_t> data);
// Hi(password, salt, iterations): the salted password. CPU-heavy (iterations HMACs): never on the
// network thread. The broker itself never needs it (clients send the salted password, KIP-554).
scram_bytes scram_salted_password(scram_mechanism mechanism, std::string_view password, std::span<const uint8_t> salt,
                                  int32_t iterations);
scram_bytes scram_client_key(scram_mechanism mechanism, std::span<const uint8_t> salted_password);
scram_bytes scram_server_key(scram_mechanism mechanism, std::span<const uint8_t> salted_password);

struct scram_credential {
  scram_bytes salt;
  scram_bytes stored_key;
  scram_bytes server_key;
  int32_t iterations = 0;
  bool operator==(const scram_credential&) const = default;
};

// The credential of a salted password (two HMACs and a hash: cheap).
scram_credential scram_credential_from_salted_password(scram_mechanism mechanism, std::span<const uint8_t> salt,
                                                       std::span<const uint8_t> salted_password, int32_t iterations);

// AlterUserScramCredentials' entries, as sent (mechanism as the raw int8).
struct scram_deletion {
  std::string user;
  int8_t mechanism = 0;
};
struct scram_upsertion {
  std::string user;
  int8_t mechanism = 0;
  int32_t iterations = 0;
  scram_bytes salt;
  scram_bytes salted_password;
};

// One user's outcome in an alteration: Kafka answers once per user named.
struct scram_alteration_result {
  std::string user;
  common::result<void> outcome;
};

// What alter() decided: the per-user outcomes (successful deletions, then successful upsertions, then
// failures, each in the order the users first appear, as Kafka groups them) and the store change
// (records to write, (user, mechanism) keys to delete), to be applied all or nothing.
struct scram_change {
  std::vector<scram_alteration_result> results;
  std::vector<log::scram_credential_record> puts;
  std::vector<log::scram_credential_key> deletions;
};

class scram_credentials {
 public:
  // user -> mechanism -> credential; one snapshot never changes once published.
  using credential_map = std::map<std::string, std::map<scram_mechanism, scram_credential>, std::less<>>;

  scram_credentials();

  // Network thread. Replaces every credential (at open, from the store); records of an unknown
  // mechanism are skipped.
  void load(const std::vector<log::scram_credential_record>& records);
  void clear();
  // Kafka's controller rules (ScramControlManager.alterCredentials) against the credentials held now:
  // a user named twice (whatever the mechanisms) is DUPLICATE_RESOURCE; an empty name or an iteration
  // count outside [4096, 16384] is UNACCEPTABLE_CREDENTIAL; an unknown mechanism is
  // UNSUPPORTED_SASL_MECHANISM; deleting a credential that does not exist is RESOURCE_NOT_FOUND.
  scram_change alter(const std::vector<scram_deletion>& deletions, const std::vector<scram_upsertion>& upsertions) const;
  // After the store has `change`: makes it visible to lookups.
  void apply(const scram_change& change);

  // Any thread.
  std::optional<scram_credential> find(std::string_view user, scram_mechanism mechanism) const;
  std::shared_ptr<const credential_map> snapshot() const;
  // A credential for a user who has none, so that an exchange for an unknown user runs as one with a
  // wrong password (RFC 5802 section 9): its salt is the same for the same name and mechanism for the
  // life of this object (derived from a random key), its keys match no proof.
  scram_credential decoy(std::string_view user, scram_mechanism mechanism) const;

 private:
  void publish(std::shared_ptr<const credential_map> next);

  // The random key decoys are derived from, made at the first decoy: drawing it at construction
  // initialised OpenSSL (its configuration file, its algorithm tables, the DRBG) on every broker start,
  // about a millisecond before the listener, for what only a SCRAM exchange of an unknown user needs.
  std::array<uint8_t, 32> decoy_key() const;

  mutable std::mutex mu_;  // guards current_ (the pointer, not the map it points to)
  std::shared_ptr<const credential_map> current_;
  mutable std::mutex decoy_mu_;  // guards the two below
  mutable bool decoy_key_made_ = false;
  mutable std::array<uint8_t, 32> decoy_key_{};
};

}  // namespace brook::broker::security
