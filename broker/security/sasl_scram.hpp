// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 on the broker side (RFC 5802, RFC 7677), as Kafka's
// ScramSaslServer serves them with the credentials AlterUserScramCredentials stores:
//
//   client-first  n,[a=authzid],n=user,r=cnonce[,ext=value...]  (gs2 flag "n" only: no channel binding)
//   server-first  r=cnonce+snonce,s=base64(salt),i=iterations
//   client-final  c=base64(gs2 header),r=cnonce+snonce[,ext=value...],p=base64(ClientProof)
//   server-final  v=base64(ServerSignature)
//
// The messages are checked against Kafka's grammar (ASCII; user names escape ',' and '=' as =2C and
// =3D; an authzid must name the user itself). Extensions Kafka does not know are ignored; tokenauth
// (a delegation token in place of a password) is refused, Brook having no delegation tokens.
//
// What the client is told: Kafka answers every failure of a SCRAM exchange with one message that does
// not say what was wrong ("Authentication failed during authentication due to invalid credentials with
// SASL mechanism SCRAM-SHA-256"), except an authzid naming another user, whose message it passes on. An
// unknown user (or one without a credential for this mechanism) gets a server-first message as a known
// user would, with a salt that stays the same from one attempt to the next, and fails at the proof as a
// wrong password does (RFC 5802 section 9); Kafka itself fails it one step earlier.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/security/sasl_server.hpp"
#include "broker/security/scram_credentials.hpp"

namespace brook::broker::security {

// A server for one SCRAM exchange of `mechanism` ("SCRAM-SHA-256" or "SCRAM-SHA-512"); nullptr for any
// other mechanism name. `credentials` (the broker's) must outlive it; the user's credential is looked
// up once, when the client-first message arrives. `reauthentication`: the exchange re-authenticates an
// authenticated connection (KIP-368), which Kafka's failure message says.
std::unique_ptr<sasl_server> make_scram_server(std::string_view mechanism, const scram_credentials& credentials,
                                               bool reauthentication = false);

// As make_scram_server, with the server's half of the nonce from `server_nonce` (printable ASCII
// without ','; nullopt fails the exchange) in place of the CSPRNG: for replaying published exchanges
// such as RFC 7677's test vector.
std::unique_ptr<sasl_server> make_scram_server_with_nonces(std::string_view mechanism,
                                                           const scram_credentials& credentials,
                                                           std::function<std::optional<std::string>()> server_nonce,
                                                           bool reauthentication = false);

}  // namespace brook::broker::security
