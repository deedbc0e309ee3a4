// scramuser creates (or replaces) one SCRAM credential through AlterUserScramCredentials, as
// `kafka-configs --alter --add-config 'SCRAM-SHA-256=[password=...]' --entity-type users` does, so
// that a suite can log in with it:
//
//	go run ./cmd/scramuser -seeds HOST:PORT -user NAME -password SECRET [-mechanism SCRAM-SHA-256|SCRAM-SHA-512]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	seeds := flag.String("seeds", "", "the brokers, host:port[,host:port...]")
	user := flag.String("user", "", "the user name")
	password := flag.String("password", "", "the password")
	mechanism := flag.String("mechanism", "SCRAM-SHA-256", "SCRAM-SHA-256 or SCRAM-SHA-512")
	flag.Parse()
	if *seeds == "" || *user == "" || *password == "" {
		fmt.Fprintln(os.Stderr, "usage: scramuser -seeds HOST:PORT -user NAME -password SECRET [-mechanism M]")
		os.Exit(2)
	}
	var m kadm.ScramMechanism
	switch *mechanism {
	case "SCRAM-SHA-256":
		m = kadm.ScramSha256
	case "SCRAM-SHA-512":
		m = kadm.ScramSha512
	default:
		fmt.Fprintf(os.Stderr, "unknown mechanism %q: SCRAM-SHA-256 or SCRAM-SHA-512\n", *mechanism)
		os.Exit(2)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*seeds, ",")...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User:       *user,
		Mechanism:  m,
		Iterations: 4096,
		Password:   *password,
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "AlterUserScramCredentials:", err)
		os.Exit(1)
	}
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(os.Stderr, "user %s: %v\n", r.User, r.Err)
			os.Exit(1)
		}
	}
}
