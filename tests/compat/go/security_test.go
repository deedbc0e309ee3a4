package compat

// franz-go (kgo, kadm) and sarama over Brook's security protocols, on Brook alone (a brook-server of
// its own with one listener per protocol; the Kafka fixture has none of them): producing and consuming
// over SASL_PLAINTEXT and SASL_SSL with every SASL mechanism, over SSL and over SSL with a required
// client certificate; the refusals (bad credentials, expired tokens, missing or foreign client
// certificates, certificates no principal mapping rule names, clients that skip authentication); and
// sessions that outlive connections.max.reauth.ms or their token (KIP-368). SCRAM's users are
// credentials the broker stores: kadm's AlterUserSCRAMs makes them over the PLAINTEXT listener.
//
// The certificates are made for the run (crypto/x509, ECDSA P-256) in a temporary directory; no key is
// ever committed.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// --- SASL mechanisms ---------------------------------------------------------------------------

// saslMechanism is one SASL mechanism as the tests use it: what the broker's SASL listeners are
// configured with, a client that logs in, and credentials the broker must refuse. Every scenario
// runs once per mechanism on each SASL listener; serving another mechanism is one more entry here.
type saslMechanism struct {
	name string // as sasl.enabled.mechanisms names it
	// The JAAS entry of every SASL listener for this mechanism
	// (listener.name.<listener>.<mechanism>.sasl.jaas.config).
	jaas string
	// login is a client mechanism that authenticates as alice; lifetime bounds its credential where the
	// mechanism has one (0: the mechanism's usual credential).
	login    func(lifetime time.Duration) sasl.Mechanism
	refusals []saslRefusal
	// scram is the SCRAM mechanism whose credentials the broker stores (0: the mechanism's users are
	// not stored credentials); startSecurityBroker makes scramUsers' credentials of it.
	scram kadm.ScramMechanism
}

// scramUsers are the users of the SCRAM mechanisms and their passwords (the same for both mechanisms).
var scramUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

// scramRefusal is Kafka's one answer to every bad SCRAM credential (unknown user, wrong password).
func scramRefusal(mechanism string) string {
	return "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism
}

// scramMechanism is a saslMechanisms entry for SCRAM-SHA-256 or SCRAM-SHA-512 (as kadm names them).
func scramMechanism(m kadm.ScramMechanism) saslMechanism {
	auth := func(user, pass string) sasl.Mechanism {
		a := scram.Auth{User: user, Pass: pass}
		if m == kadm.ScramSha256 {
			return a.AsSha256Mechanism()
		}
		return a.AsSha512Mechanism()
	}
	name := m.String()
	return saslMechanism{
		name:  name,
		jaas:  `org.apache.kafka.common.security.scram.ScramLoginModule required;`,
		login: func(time.Duration) sasl.Mechanism { return auth("alice", scramUsers["alice"]) },
		refusals: []saslRefusal{
			{"wrong password", auth("alice", "wrong-password"), scramRefusal(name)},
			{"unknown user", auth("mallory", "alice-secret"), scramRefusal(name)},
			{"another user's password", auth("bob", "alice-secret"), scramRefusal(name)},
		},
		scram: m,
	}
}

// saslRefusal is a credential the broker refuses with SASL_AUTHENTICATION_FAILED and message.
type saslRefusal struct {
	what      string
	mechanism sasl.Mechanism
	message   string // the error message the broker answers, exactly
}

// plainRefusal is Kafka's one answer to every bad PLAIN credential: it never says which part was wrong.
const plainRefusal = "Authentication failed: Invalid username or password"

var saslMechanisms = []saslMechanism{
	{
		name: "PLAIN",
		jaas: `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob-secret";`,
		login: func(time.Duration) sasl.Mechanism {
			return plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()
		},
		refusals: []saslRefusal{
			{"wrong password", plain.Auth{User: "alice", Pass: "wrong-password"}.AsMechanism(), plainRefusal},
			{"unknown user", plain.Auth{User: "mallory", Pass: "alice-secret"}.AsMechanism(), plainRefusal},
			{"another user's password", plain.Auth{User: "bob", Pass: "alice-secret"}.AsMechanism(), plainRefusal},
		},
	},
	{
		// Kafka's default validator: unsecured JWTs ({"alg":"none"}, no signature).
		name: "OAUTHBEARER",
		jaas: `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`,
		login: func(lifetime time.Duration) sasl.Mechanism {
			if lifetime == 0 {
				lifetime = time.Hour
			}
			// A new token for every authentication, as a token provider gives.
			return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
				return oauth.Auth{Token: unsecuredJWT("alice", time.Now().Add(lifetime))}, nil
			})
		},
		refusals: []saslRefusal{
			{"expired token", oauth.Auth{Token: unsecuredJWT("alice", time.Now().Add(-time.Minute))}.AsMechanism(),
				`{"status":"invalid_token"}`},
			{"token without a subject", oauth.Auth{Token: unsecuredJWT("", time.Now().Add(time.Hour))}.AsMechanism(),
				`{"status":"invalid_token"}`},
		},
	},
	scramMechanism(kadm.ScramSha256),
	scramMechanism(kadm.ScramSha512),
}

// mechanism is the entry of saslMechanisms named name.
func mechanism(name string) saslMechanism {
	for _, m := range saslMechanisms {
		if m.name == name {
			return m
		}
	}
	panic("no SASL mechanism " + name)
}

// unsecuredJWT is an unsecured JWS (header {"alg":"none"}, empty signature) with claims sub (left out
// when empty), iat (now) and exp, as Kafka's unsecured login module makes them.
func unsecuredJWT(subject string, expires time.Time) string {
	claims := map[string]any{"iat": time.Now().Unix(), "exp": expires.Unix()}
	if subject != "" {
		claims["sub"] = subject
	}
	body, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(body) + "."
}

// --- the broker --------------------------------------------------------------------------------

// The listeners of the security broker, and what each stands for.
const (
	lPlaintext     = "PLAINTEXT"      // no security: the control for what the others refuse
	lSaslPlaintext = "SASL_PLAINTEXT" // every SASL mechanism, no TLS
	lSaslSSL       = "SASL_SSL"       // every SASL mechanism over TLS
	lSSL           = "SSL"            // TLS, no client certificate asked for
	lMTLS          = "MTLS"           // SSL with ssl.client.auth=required and a principal mapping rule
	lReauth        = "REAUTH"         // SASL_SSL with connections.max.reauth.ms = reauthLifetime
)

// reauthLifetime is connections.max.reauth.ms on the REAUTH listener.
const reauthLifetime = 2 * time.Second

// secrets that must never appear in the broker's log.
var secrets = []string{"alice-secret", "bob-secret", "wrong-password"}

type securityBroker struct {
	*brookProcess
	certs *testCerts
}

// startSecurityBroker makes the run's certificates and starts a brook-server with one listener per
// security protocol; the broker stops when the test (and its subtests) end.
func startSecurityBroker(t *testing.T) *securityBroker {
	t.Helper()
	certs, err := makeCerts(t.TempDir())
	if err != nil {
		t.Fatalf("certificates: %v", err)
	}
	overrides := []string{
		"listeners=" + strings.Join([]string{
			lPlaintext + "://127.0.0.1:0", lSaslPlaintext + "://127.0.0.1:0", lSaslSSL + "://127.0.0.1:0",
			lSSL + "://127.0.0.1:0", lMTLS + "://127.0.0.1:0", lReauth + "://127.0.0.1:0"}, ","),
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL," +
			"MTLS:SSL,REAUTH:SASL_SSL",
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=" + certs.brokerPEM,
		"listener.name.mtls.ssl.client.auth=required",
		"listener.name.mtls.ssl.truststore.type=PEM",
		"listener.name.mtls.ssl.truststore.location=" + certs.caPEM,
		// Certificates of the Apps unit only: their CN, lower-cased. No DEFAULT: any other subject has no
		// principal, and is refused.
		"listener.name.mtls.ssl.principal.mapping.rules=RULE:^CN=([^,]*),OU=Apps,.*$/$1/L",
		fmt.Sprintf("listener.name.reauth.connections.max.reauth.ms=%d", reauthLifetime.Milliseconds()),
		"connection.failed.authentication.delay.ms=20",
	}
	var names []string
	for _, m := range saslMechanisms {
		names = append(names, m.name)
		for _, l := range []string{lSaslPlaintext, lSaslSSL, lReauth} {
			overrides = append(overrides, fmt.Sprintf("listener.name.%s.%s.sasl.jaas.config=%s",
				strings.ToLower(l), strings.ToLower(m.name), m.jaas))
		}
	}
	overrides = append(overrides, "sasl.enabled.mechanisms="+strings.Join(names, ","))
	p, err := startBrook(overrides...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
	})
	for _, l := range []string{lPlaintext, lSaslPlaintext, lSaslSSL, lSSL, lMTLS, lReauth} {
		if p.listeners[l] == "" {
			t.Fatalf("the broker logged no address for listener %s:\n%s", l, p.logTail())
		}
	}
	s := &securityBroker{brookProcess: p, certs: certs}
	s.makeSCRAMUsers(t)
	return s
}

// makeSCRAMUsers stores scramUsers' credentials of every SCRAM mechanism of saslMechanisms, through
// kadm's AlterUserSCRAMs on the PLAINTEXT listener, one alteration a request.
func (s *securityBroker) makeSCRAMUsers(t *testing.T) {
	t.Helper()
	ctx := scenarioContext(t)
	adm := kadm.NewClient(s.client(t, s.connectOpts(lPlaintext, nil, nil)))
	for _, m := range saslMechanisms {
		if m.scram == 0 {
			continue
		}
		for user, password := range scramUsers {
			altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
				{User: user, Mechanism: m.scram, Iterations: 8192, Password: password}})
			if err == nil {
				err = altered.Error()
			}
			if err != nil {
				t.Fatalf("AlterUserSCRAMs %s %s: %v", m.name, user, err)
			}
		}
	}
}

// tlsConfig trusts the run's CA and, when given, presents a client certificate.
func (s *securityBroker) tlsConfig(client *tls.Certificate) *tls.Config {
	cfg := &tls.Config{RootCAs: s.certs.pool, MinVersion: tls.VersionTLS12}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	return cfg
}

// connectOpts are kgo's options to reach listener: its address, TLS on TLS listeners (with client, if
// any, as the client certificate) and mechanism, if any.
func (s *securityBroker) connectOpts(listener string, mechanism sasl.Mechanism, client *tls.Certificate) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.listeners[listener])}
	switch listener {
	case lSaslSSL, lSSL, lMTLS, lReauth:
		opts = append(opts, kgo.DialTLSConfig(s.tlsConfig(client)))
	}
	if mechanism != nil {
		opts = append(opts, kgo.SASL(mechanism))
	}
	return opts
}

// client is a kgo client of the security broker, closed when the test ends.
func (s *securityBroker) client(t *testing.T, connect []kgo.Opt, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(slices.Concat([]kgo.Opt{
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.RetryTimeout(10 * time.Second),
	}, connect, opts)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitForLog waits until the broker's log holds text, or fails the test.
func (s *securityBroker) waitForLog(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	err := waitFor(ctx, func() error {
		if strings.Contains(s.logText(), text) {
			return nil
		}
		return fmt.Errorf("the broker's log does not say %q", text)
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, s.logTail())
	}
}

// --- the scenarios -----------------------------------------------------------------------------

func TestSecurity(t *testing.T) {
	t.Parallel()
	s := startSecurityBroker(t)
	t.Cleanup(func() { // once every scenario is done, before the broker stops
		log := s.logText()
		for _, secret := range secrets {
			if strings.Contains(log, secret) {
				t.Errorf("%q appears in the broker's log", secret)
			}
		}
	})

	t.Run("produce and consume", func(t *testing.T) {
		t.Parallel()
		for _, l := range []string{lSaslPlaintext, lSaslSSL} {
			for _, m := range saslMechanisms {
				t.Run(l+"/"+m.name, func(t *testing.T) {
					t.Parallel()
					produceAndConsume(t, s, s.connectOpts(l, m.login(0), nil), "sec-"+l+"-"+m.name)
				})
			}
		}
		t.Run(lSSL, func(t *testing.T) {
			t.Parallel()
			produceAndConsume(t, s, s.connectOpts(lSSL, nil, nil), "sec-ssl")
		})
		t.Run("SSL with a client certificate", func(t *testing.T) {
			t.Parallel()
			// The certificate's subject, CN=app-client,OU=Apps,O=Brook, has a principal by the listener's
			// rule (app-client); the Ops certificate, which none names, is refused (see the refusals).
			produceAndConsume(t, s, s.connectOpts(lMTLS, nil, &s.certs.client), "sec-mtls")
		})
		t.Run("sarama/SASL_SSL/PLAIN", func(t *testing.T) {
			t.Parallel()
			saramaProduceAndConsume(t, s)
		})
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		t.Run("each", func(t *testing.T) { // returns once every refusal is done
			for _, l := range []string{lSaslPlaintext, lSaslSSL} {
				for _, m := range saslMechanisms {
					for _, r := range m.refusals {
						t.Run(l+"/"+m.name+"/"+r.what, func(t *testing.T) {
							t.Parallel()
							saslRefused(t, s, s.connectOpts(l, r.mechanism, nil), r.message)
						})
					}
				}
			}
			t.Run("MTLS without a client certificate", func(t *testing.T) {
				t.Parallel()
				tlsRefused(t, s, s.connectOpts(lMTLS, nil, nil))
			})
			t.Run("MTLS with a certificate from another CA", func(t *testing.T) {
				t.Parallel()
				tlsRefused(t, s, s.connectOpts(lMTLS, nil, &s.certs.rogue))
			})
			t.Run("MTLS with a certificate no mapping rule names", func(t *testing.T) {
				t.Parallel()
				tlsRefused(t, s, s.connectOpts(lMTLS, nil, &s.certs.ops))
				s.waitForLog(t, scenarioContext(t),
					"no ssl.principal.mapping.rules rule applies to the certificate subject CN=ops-client,OU=Ops,O=Brook")
			})
			t.Run("plaintext client on a TLS listener", func(t *testing.T) {
				t.Parallel()
				tlsRefused(t, s, []kgo.Opt{kgo.SeedBrokers(s.listeners[lSSL])})
			})
			t.Run("client that skips authentication", func(t *testing.T) {
				t.Parallel()
				skippedAuthentication(t, s)
			})
		})
		// Each refusal was logged before the client learnt of it.
		if !strings.Contains(s.logText(), "Failed authentication with 127.0.0.1:") {
			t.Errorf("the broker's log names no failed authentication:\n%s", s.logTail())
		}
	})

	t.Run("re-authentication", func(t *testing.T) {
		t.Parallel()
		for _, m := range saslMechanisms {
			t.Run(lReauth+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				// connections.max.reauth.ms bounds the session.
				sessionsRenewed(t, s, "renewed-"+m.name, lReauth, m.login(0), 3*reauthLifetime)
			})
		}
		t.Run(lSaslSSL+"/OAUTHBEARER with short-lived tokens", func(t *testing.T) {
			t.Parallel()
			// No connections.max.reauth.ms here: the token's exp bounds the session.
			sessionsRenewed(t, s, "renewed-short-tokens", lSaslSSL, mechanism("OAUTHBEARER").login(3*time.Second),
				6*time.Second)
		})
		t.Run(lReauth+"/OAUTHBEARER with another principal", func(t *testing.T) {
			t.Parallel()
			principalSwitched(t, s)
		})
		t.Run(lReauth+"/SaslAuthenticate v0 and v1", func(t *testing.T) {
			t.Parallel()
			sessionLimits(t, s)
		})
	})
}

// produceAndConsume creates topic (two partitions) through kadm, produces 20 small records and 3 of
// 300 kB (each many TLS records long) and consumes them in a consumer group, every client connecting
// with connect.
func produceAndConsume(t *testing.T, s *securityBroker, connect []kgo.Opt, topic string) {
	ctx := scenarioContext(t)
	topic = name(topic)
	adm := kadm.NewClient(s.client(t, connect))
	createTopic(t, ctx, adm, topic, 2, nil)
	producer := s.client(t, connect, kgo.DefaultProduceTopic(topic))
	want := map[string][]byte{}
	var recs []*kgo.Record
	for i := range 23 {
		key := fmt.Sprintf("k%d", i)
		want[key] = fmt.Appendf(nil, "%s-%d", short(topic), i)
		if i >= 20 {
			want[key] = bytes.Repeat([]byte{byte('a' + i)}, 300_000+i)
		}
		recs = append(recs, &kgo.Record{Key: []byte(key), Value: want[key]})
	}
	produceSync(t, ctx, producer, recs...)
	consumer := s.client(t, connect, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got, err := pollRecords(ctx, consumer, len(want))
	if err != nil {
		t.Fatalf("consumed %d of %d records: %v", len(got), len(want), err)
	}
	for _, r := range got {
		if w, ok := want[string(r.Key)]; !ok || !bytes.Equal(r.Value, w) {
			t.Errorf("consumed %d bytes under key %q at %d/%d, not what was produced", len(r.Value), r.Key, r.Partition, r.Offset)
		}
		delete(want, string(r.Key))
	}
	if len(want) != 0 {
		t.Errorf("%d records not consumed", len(want))
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Errorf("committing: %v", err)
	}
}

// saramaProduceAndConsume: sarama's sync producer and partition consumer over SASL_SSL with PLAIN.
func saramaProduceAndConsume(t *testing.T, s *securityBroker) {
	ctx := scenarioContext(t)
	topic := name("sec-sarama-sasl-ssl")
	createTopic(t, ctx, kadm.NewClient(s.client(t, s.connectOpts(lSaslSSL, mechanism("PLAIN").login(0), nil))), topic, 1, nil)
	cfg := saramaConfig("security")
	cfg.Net.TLS.Enable = true
	cfg.Net.TLS.Config = s.tlsConfig(nil)
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	cfg.Net.SASL.Version = sarama.SASLHandshakeV1
	cfg.Net.SASL.User = "alice"
	cfg.Net.SASL.Password = "alice-secret"
	cl := saramaClient(t, &target{name: "brook", bootstrap: s.listeners[lSaslSSL]}, cfg)
	producer, err := sarama.NewSyncProducerFromClient(cl)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}
	defer producer.Close()
	var msgs []*sarama.ProducerMessage
	for i := range 10 {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("sarama-%d", i))})
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatalf("producing: %v", err)
	}
	got := consumePartitions(t, ctx, cl, topic, 1, len(msgs))
	for i, m := range got {
		if want := fmt.Sprintf("sarama-%d", i); string(m.Value) != want || m.Offset != int64(i) {
			t.Errorf("message %d: %q at offset %d, want %q at offset %d", i, m.Value, m.Offset, want, i)
		}
	}
}

// metadata asks cl for the cluster's metadata (the refusal scenarios' clients do not retry:
// kgo.RequestRetries(0)).
func metadata(ctx context.Context, cl *kgo.Client) error {
	_, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest())
	return err
}

// saslRefused checks that a client connecting with connect is refused with SASL_AUTHENTICATION_FAILED
// and message, and gets no metadata.
func saslRefused(t *testing.T, s *securityBroker, connect []kgo.Opt, message string) {
	ctx := scenarioContext(t)
	err := metadata(ctx, s.client(t, connect, kgo.RequestRetries(0)))
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("metadata: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if !strings.HasSuffix(err.Error(), ": "+message) {
		t.Errorf("refused with %q, want the message %q", err, message)
	}
}

// tlsRefused checks that a client connecting with connect is refused (the connection fails or
// closes) and gets no metadata.
func tlsRefused(t *testing.T, s *securityBroker, connect []kgo.Opt) {
	ctx := scenarioContext(t)
	if err := metadata(ctx, s.client(t, connect, kgo.RequestRetries(0))); err == nil {
		t.Fatal("metadata served")
	} else if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no answer and no refusal: %v", err)
	}
}

// skippedAuthentication: clients on the SASL_PLAINTEXT listener that send Kafka requests without
// authenticating get no answer and the connection is closed; nothing they sent is stored. The same
// Produce request sent on the PLAINTEXT listener is stored, so it is the listener that refuses it.
func skippedAuthentication(t *testing.T, s *securityBroker) {
	ctx := scenarioContext(t)
	topic := name("sec-skipped-authentication")
	alice := s.client(t, s.connectOpts(lSaslPlaintext, mechanism("PLAIN").login(0), nil))
	adm := kadm.NewClient(alice)
	createTopic(t, ctx, adm, topic, 1, nil)

	// kgo without SASL: ApiVersions is answered (the SASL handshake may start with it), Metadata closes
	// the connection.
	if err := metadata(ctx, s.client(t, s.connectOpts(lSaslPlaintext, nil, nil), kgo.RequestRetries(0))); err == nil {
		t.Error("metadata served to a client that did not authenticate")
	}
	s.waitForLog(t, ctx, "Unexpected Kafka request of API key 3 during SASL handshake.")

	// A Produce request as the first request of a connection.
	w, err := dialWire(ctx, s.listeners[lSaslPlaintext], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.request(rawProduce(topic, "skipped-authentication"), kmsg.NewPtrProduceResponse()); !errors.Is(err, io.EOF) {
		t.Errorf("a Produce request without authentication: %v; want the connection closed unanswered", err)
	}
	s.waitForLog(t, ctx, "Unexpected Kafka request of API key 0 during SASL handshake.")
	w, err = dialWire(ctx, s.listeners[lPlaintext], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	resp := kmsg.NewPtrProduceResponse()
	if err := w.request(rawProduce(topic, "plaintext"), resp); err != nil {
		t.Fatalf("the same Produce request on the PLAINTEXT listener: %v", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("the PLAINTEXT listener answered %+v", resp.Topics)
	}

	// One record is stored, the one sent on the PLAINTEXT listener.
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	if end, _ := ends.Lookup(topic, 0); end.Err != nil || end.Offset != 1 {
		t.Fatalf("%s ends at offset %d (%v), want 1", topic, end.Offset, end.Err)
	}
	consumer := s.client(t, s.connectOpts(lSaslPlaintext, mechanism("PLAIN").login(0), nil),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	recs, err := pollRecords(ctx, consumer, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(recs[0].Value) != "plaintext" {
		t.Errorf("%s holds %q, want the record sent on the PLAINTEXT listener", topic, recs[0].Value)
	}
}

// rawProduce is a Produce v3 request (acks=1) of one record with value to partition 0 of topic, as a
// client would send it.
func rawProduce(topic, value string) *kmsg.ProduceRequest {
	rec := kmsg.Record{Value: []byte(value)}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // everything after the (one-byte) length
	now := time.Now().UnixMilli()
	batch := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: rec.AppendTo(nil),
	}
	raw := batch.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))                                          // Length: what follows it
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))) // CRC: from Attributes on
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 3, 1, 5000
	part := kmsg.NewProduceRequestTopicPartition()
	part.Records = raw
	tp := kmsg.NewProduceRequestTopic()
	tp.Topic = topic
	tp.Partitions = append(tp.Partitions, part)
	req.Topics = append(req.Topics, tp)
	return req
}

// connectionCounts counts, through kgo's hooks, the connections a client opened and lost and the
// SaslAuthenticate requests it wrote.
type connectionCounts struct {
	connects, disconnects, authenticates atomic.Int64
}

func (c *connectionCounts) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		c.connects.Add(1)
	}
}

func (c *connectionCounts) OnBrokerDisconnect(kgo.BrokerMetadata, net.Conn) { c.disconnects.Add(1) }

func (c *connectionCounts) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == int16(kmsg.SASLAuthenticate) && err == nil {
		c.authenticates.Add(1)
	}
}

// keepWorking produces a record every 100 ms on listener for as long as run and consumes each with
// the same client, whose SASL sessions last less than run, and fails the test unless every record is
// produced and consumed in order; consumed (if not nil) is called after each record. It returns the
// client's connection counts.
func keepWorking(t *testing.T, s *securityBroker, what, listener string, mechanism sasl.Mechanism,
	run time.Duration, consumed func()) *connectionCounts {
	ctx, cancel := context.WithTimeout(context.Background(), run+scenarioTimeout)
	defer cancel()
	topic := name("sec-" + what)
	connect := s.connectOpts(listener, mechanism, nil)
	createTopic(t, ctx, kadm.NewClient(s.client(t, connect)), topic, 1, nil)
	counts := &connectionCounts{}
	cl := s.client(t, connect, kgo.WithHooks(counts), kgo.DefaultProduceTopic(topic),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))

	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond) // the pace of the records, not a wait
	defer tick.Stop()
	n := 0
	for ; time.Since(start) < run; n++ {
		<-tick.C
		produceSync(t, ctx, cl, &kgo.Record{Value: fmt.Appendf(nil, "%d", n)})
		recs, err := pollRecords(ctx, cl, 1)
		if err != nil {
			t.Fatalf("record %d, %v into the run: %v", n, time.Since(start).Round(time.Millisecond), err)
		}
		if len(recs) != 1 || string(recs[0].Value) != fmt.Sprint(n) || recs[0].Offset != int64(n) {
			t.Fatalf("record %d, %v into the run: consumed %d records, the first %q at offset %d", n,
				time.Since(start).Round(time.Millisecond), len(recs), recs[0].Value, recs[0].Offset)
		}
		if consumed != nil {
			consumed()
		}
	}
	t.Logf("%d records in %v: %d connections, %d lost, %d SaslAuthenticate requests", n,
		time.Since(start).Round(time.Millisecond), counts.connects.Load(), counts.disconnects.Load(),
		counts.authenticates.Load())
	return counts
}

// sessionsRenewed: over keepWorking, kgo re-authenticates its connections before their sessions end
// (SaslAuthenticate v1 tells it their lifetime) and loses none of them.
func sessionsRenewed(t *testing.T, s *securityBroker, what, listener string, mechanism sasl.Mechanism,
	run time.Duration) {
	counts := keepWorking(t, s, what, listener, mechanism, run, nil)
	connects, disconnects, authenticates := counts.connects.Load(), counts.disconnects.Load(), counts.authenticates.Load()
	if disconnects != 0 {
		t.Errorf("%d connections lost; re-authenticating clients keep theirs", disconnects)
	}
	if reauths := authenticates - connects; reauths < 2 {
		t.Errorf("%d re-authentications (%d SaslAuthenticate requests on %d connections), want at least 2",
			reauths, authenticates, connects)
	}
}

// principalSwitched: a client whose tokens name alice until it has produced and consumed its first
// record (its connections are open by then), then bob. Its connections' re-authentications as bob are
// refused, as Kafka refuses them (a session keeps its principal); kgo then opens new connections,
// which authenticate as bob, and keeps working.
func principalSwitched(t *testing.T, s *securityBroker) {
	var bob atomic.Bool
	switching := oauth.Oauth(func(context.Context) (oauth.Auth, error) {
		subject := "alice"
		if bob.Load() {
			subject = "bob"
		}
		return oauth.Auth{Token: unsecuredJWT(subject, time.Now().Add(time.Hour))}, nil
	})
	counts := keepWorking(t, s, "principal-switched", lReauth, switching, 2*reauthLifetime, func() { bob.Store(true) })
	if counts.disconnects.Load() == 0 {
		t.Error("no connection lost, though each re-authentication names another principal")
	}
	s.waitForLog(t, scenarioContext(t), "Cannot change principals during re-authentication from User.alice: User.bob")
}

// sessionLimits authenticates on the REAUTH listener with SaslAuthenticate v1, which tells the client
// its session lifetime (connections.max.reauth.ms), and with v0, which cannot: that client does not
// re-authenticate, and the broker serves its requests until the session ends, then closes the
// connection at the next one, unanswered, as Kafka does.
func sessionLimits(t *testing.T, s *securityBroker) {
	ctx, cancel := context.WithTimeout(context.Background(), reauthLifetime+scenarioTimeout)
	defer cancel()
	for _, version := range []int16{1, 0} {
		w, err := dialWire(ctx, s.listeners[lReauth], s.tlsConfig(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, "PLAIN"
		hsResp := kmsg.NewPtrSASLHandshakeResponse()
		if err := w.request(hs, hsResp); err != nil || hsResp.ErrorCode != 0 {
			t.Fatalf("SaslHandshake: %v, %s", err, codeName(hsResp.ErrorCode))
		}
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version, auth.SASLAuthBytes = version, []byte("\x00alice\x00alice-secret")
		authResp := kmsg.NewPtrSASLAuthenticateResponse()
		sent := time.Now()
		if err := w.request(auth, authResp); err != nil || authResp.ErrorCode != 0 {
			t.Fatalf("SaslAuthenticate v%d: %v, %s", version, err, codeName(authResp.ErrorCode))
		}
		answered := time.Now()
		if version >= 1 {
			if authResp.SessionLifetimeMillis != reauthLifetime.Milliseconds() {
				t.Errorf("SaslAuthenticate v1: session lifetime %d ms, want %d", authResp.SessionLifetimeMillis,
					reauthLifetime.Milliseconds())
			}
			continue
		}
		// The session ends between sent+lifetime and answered+lifetime on the broker's clock: every
		// request the broker reads before sent+lifetime is answered (one sent a little earlier may be
		// read after: closeTolerance), the first sent after answered+lifetime is not.
		const closeTolerance = 250 * time.Millisecond
		tick := time.NewTicker(100 * time.Millisecond) // the pace of the requests, not a wait
		defer tick.Stop()
		for served := 0; ; served++ {
			<-tick.C
			at := time.Now()
			meta := kmsg.NewPtrMetadataRequest()
			meta.Version = 1
			err := w.request(meta, kmsg.NewPtrMetadataResponse())
			switch {
			case err == nil && at.After(answered.Add(reauthLifetime)):
				t.Fatalf("Metadata served %v after the session's end", at.Sub(answered.Add(reauthLifetime)))
			case err == nil:
				continue
			case errors.Is(err, io.EOF) && at.Before(sent.Add(reauthLifetime-closeTolerance)):
				t.Fatalf("connection closed %v into a session of %v", at.Sub(sent), reauthLifetime)
			case errors.Is(err, io.EOF):
				if served < 10 {
					t.Errorf("%d requests served in the session", served)
				}
				s.waitForLog(t, ctx, "its SASL session expired")
				return
			default:
				t.Fatalf("Metadata: %v", err)
			}
		}
	}
}

// wireConn is a connection that speaks Kafka's protocol request by request, for what clients do not
// send: a request before authenticating, an old SaslAuthenticate.
type wireConn struct {
	net.Conn
	correlation int32
}

// dialWire connects to addr (with TLS when tlsConfig is not nil); ctx's deadline bounds every read and
// write.
func dialWire(ctx context.Context, addr string, tlsConfig *tls.Config) (*wireConn, error) {
	var conn net.Conn
	var err error
	if tlsConfig != nil {
		d := tls.Dialer{Config: tlsConfig}
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	return &wireConn{Conn: conn}, nil
}

// send writes frame and reads one response frame: its bytes after the size, or io.EOF when the broker
// closes the connection without a byte.
func (w *wireConn) send(frame []byte) ([]byte, error) {
	if _, err := w.Write(frame); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(w, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(w, body)
	return body, err
}

// request sends req (at its version) and decodes the answer into resp.
func (w *wireConn) request(req kmsg.Request, resp kmsg.Response) error {
	w.correlation++
	body, err := w.send(kmsg.NewRequestFormatter(kmsg.FormatterClientID("go-compat-wire")).AppendRequest(nil, req, w.correlation))
	if err != nil {
		return err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != w.correlation {
		return fmt.Errorf("answer to correlation id %d, want %d", got, w.correlation)
	}
	body = body[4:]
	if resp.IsFlexible() {
		body = body[1:] // the header's (empty) tagged fields
	}
	resp.SetVersion(req.GetVersion())
	return resp.ReadFrom(body)
}

// --- certificates --------------------------------------------------------------------------------

// testCerts are the run's certificates: a CA, the broker's certificate (CN=localhost, for localhost
// and 127.0.0.1), client certificates it signed for CN=app-client,OU=Apps,O=Brook (client) and
// CN=ops-client,OU=Ops,O=Brook (ops), and one for CN=app-client,OU=Apps,O=Brook from another CA (rogue).
type testCerts struct {
	caPEM     string // the CA's certificate, PEM
	brokerPEM string // the broker's key and certificate, PEM
	pool      *x509.CertPool
	client    tls.Certificate
	ops       tls.Certificate
	rogue     tls.Certificate
}

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(cn string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &authority{cert: cert, key: key}, err
}

var serial atomic.Int64

// issue signs a new key's certificate for subject; hosts (DNS names or IP addresses) make it a server's.
func (a *authority) issue(subject pkix.Name, hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1) + 1), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, err
}

// makeCerts makes the run's certificates and writes the CA's and the broker's PEM files into dir.
func makeCerts(dir string) (*testCerts, error) {
	ca, err := newAuthority("Brook Test CA")
	if err != nil {
		return nil, err
	}
	rogueCA, err := newAuthority("Brook Test rogue CA")
	if err != nil {
		return nil, err
	}
	apps := pkix.Name{Organization: []string{"Brook"}, OrganizationalUnit: []string{"Apps"}, CommonName: "app-client"}
	ops := pkix.Name{Organization: []string{"Brook"}, OrganizationalUnit: []string{"Ops"}, CommonName: "ops-client"}
	c := &testCerts{caPEM: filepath.Join(dir, "ca.pem"), brokerPEM: filepath.Join(dir, "broker.pem"), pool: x509.NewCertPool()}
	c.pool.AddCert(ca.cert)
	broker, err := ca.issue(pkix.Name{CommonName: "localhost"}, "localhost", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	if c.client, err = ca.issue(apps); err != nil {
		return nil, err
	}
	if c.ops, err = ca.issue(ops); err != nil {
		return nil, err
	}
	if c.rogue, err = rogueCA.issue(apps); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(broker.PrivateKey)
	if err != nil {
		return nil, err
	}
	var brokerFile bytes.Buffer
	_ = pem.Encode(&brokerFile, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	_ = pem.Encode(&brokerFile, &pem.Block{Type: "CERTIFICATE", Bytes: broker.Certificate[0]})
	if err := os.WriteFile(c.brokerPEM, brokerFile.Bytes(), 0o600); err != nil {
		return nil, err
	}
	caFile := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	return c, os.WriteFile(c.caPEM, caFile, 0o644)
}
