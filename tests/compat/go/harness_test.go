// Package compat runs the same scenarios with Go Kafka clients (franz-go's kgo and kadm, IBM's sarama,
// segmentio's kafka-go) against Brook and against a real Apache Kafka broker, at once, and compares what
// each scenario observed on the two.
//
// A scenario records "facts": lines of text that must read the same on both brokers (error names,
// offsets, timestamps, config sources, group states, properties of assignments). Whatever must differ
// (ids, hosts, ports, timings) is left out of the facts; a scenario may still check it on each broker on
// its own. Where Brook deliberately differs from Kafka, the scenario leaves the fact out and says so in
// a comment (README.md lists these).
//
// Environment (run.sh sets it from ctest):
//
//	BROOK_SERVER                 brook-server to start (`--ephemeral --exit-on-stdin-eof`), one per run
//	                             for the side-by-side scenarios, one more for the security scenarios
//	                             (security_test.go), which run on Brook alone
//	BROOK_KAFKA_BOOTSTRAP_FILE   file holding the real Kafka's host:port (tests/client/kafka/kafka_broker.py);
//	                             when it is missing and FILE.unavailable exists, the scenarios run against
//	                             Brook alone, except in CI (CI=true), where that is a failure
package compat

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// target is one broker under test.
type target struct {
	name      string // "kafka" or "brook"
	bootstrap string // host:port
}

var (
	targets      []*target // the real Kafka first (when there is one), then Brook
	kafkaMissing string    // why there is no Kafka side, when there is none
	runID        string    // makes this run's topic and group names unique on the shared Kafka broker
	// baseTimestamp: explicit record timestamps (milliseconds) the scenarios derive from, the same on
	// both brokers; a little in the past, well within message.timestamp.before.max.ms.
	baseTimestamp = (time.Now().UnixMilli()/1000 - 600) * 1000
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	runID = hex.EncodeToString(id)

	if kafka, why := kafkaBootstrap(); kafka != "" {
		targets = append(targets, &target{name: "kafka", bootstrap: kafka})
	} else {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "the real Kafka broker is unavailable in CI: %s\n", why)
			return 1
		}
		kafkaMissing = why
		fmt.Fprintf(os.Stderr, "NOTE: no real Kafka broker (%s): the scenarios run against Brook alone, nothing is compared\n", why)
	}

	brook, err := startBrook()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	targets = append(targets, &target{name: "brook", bootstrap: brook.bootstrap})
	for _, tg := range targets {
		if err := waitForGroupCoordinator(tg); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", tg.name, err)
			_ = brook.stop()
			return 1
		}
	}
	code := m.Run()
	if err := brook.stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// kafkaBootstrap reads the real Kafka's address, or says why there is none.
func kafkaBootstrap() (string, string) {
	file := os.Getenv("BROOK_KAFKA_BOOTSTRAP_FILE")
	if file == "" {
		return "", "BROOK_KAFKA_BOOTSTRAP_FILE is not set"
	}
	data, err := os.ReadFile(file)
	if err == nil && strings.TrimSpace(string(data)) != "" {
		return strings.TrimSpace(string(data)), ""
	}
	if reason, err := os.ReadFile(file + ".unavailable"); err == nil {
		return "", strings.TrimSpace(string(reason))
	}
	return "", fmt.Sprintf("%s does not exist (was the Kafka fixture started?)", file)
}

// waitForGroupCoordinator waits until tg coordinates groups: a fresh Kafka broker answers
// COORDINATOR_NOT_AVAILABLE until it has created and loaded its offsets topic, and some clients
// (kafka-go's Reader) give up on that instead of retrying.
func waitForGroupCoordinator(tg *target) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(tg.bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	group := "go-warm-up-" + runID
	return waitFor(ctx, func() error {
		if err := adm.FindGroupCoordinators(ctx, group).Error(); err != nil {
			return fmt.Errorf("no group coordinator: %w", err)
		}
		offsets, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = offsets.Error()
		}
		if err != nil {
			return fmt.Errorf("offsets not served: %w", err)
		}
		return nil
	})
}

// --- Brook -------------------------------------------------------------------------------------

type brookProcess struct {
	bootstrap string
	listeners map[string]string // listener name -> host:port, as the broker logged them
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stderr    *os.File
}

// listeningLine is how the broker logs each listener it bound.
var listeningLine = regexp.MustCompile(`listening on ([A-Za-z0-9_]+)://(\S*):(\d+)`)

// startBrook runs `brook-server --ephemeral --exit-on-stdin-eof`, each override as `--override
// key=value`, and waits for its bootstrap line (the first listener's address). Its log goes to a
// temporary file, printed if it does not stop cleanly.
func startBrook(overrides ...string) (*brookProcess, error) {
	server := os.Getenv("BROOK_SERVER")
	if server == "" {
		return nil, errors.New("BROOK_SERVER is not set (the path to brook-server)")
	}
	logFile, err := os.CreateTemp("", "brook-go-compat-*.log")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(logFile.Name()) // the open file is enough; nothing is left behind
	args := []string{"--ephemeral", "--exit-on-stdin-eof"}
	for _, o := range overrides {
		args = append(args, "--override", o)
	}
	p := &brookProcess{cmd: exec.Command(server, args...), stderr: logFile}
	p.cmd.Stderr = logFile
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", server, err)
	}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		first, _ := r.ReadString('\n')
		line <- strings.TrimSpace(first)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case first := <-line:
		if !strings.HasPrefix(first, "bootstrap.servers=") {
			_ = p.stop()
			return nil, fmt.Errorf("brook-server printed %q instead of bootstrap.servers=...\n%s", first, p.logTail())
		}
		p.bootstrap = strings.TrimPrefix(first, "bootstrap.servers=")
		// Every listener is bound, and logged, before the bootstrap line is printed.
		p.listeners = map[string]string{}
		for _, m := range listeningLine.FindAllStringSubmatch(p.logText(), -1) {
			host := m[2]
			if host == "" {
				host = "127.0.0.1"
			}
			p.listeners[m[1]] = host + ":" + m[3]
		}
	case <-time.After(30 * time.Second):
		_ = p.stop()
		return nil, fmt.Errorf("brook-server did not announce itself within 30s\n%s", p.logTail())
	}
	return p, nil
}

// stop closes the broker's stdin, which stops it; SIGKILL if it takes longer than 30 s.
func (p *brookProcess) stop() error {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("brook-server: %v\n%s", err, p.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("brook-server did not stop within 30s of its stdin closing; killed\n%s", p.logTail())
	}
}

// logText is everything the broker has logged so far.
func (p *brookProcess) logText() string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", p.stderr.Fd()))
	return string(data)
}

func (p *brookProcess) logTail() string {
	data := p.logText()
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	return data
}

// --- facts and their comparison ----------------------------------------------------------------

// facts are what a scenario observed on one broker, one line each, in the order the scenario recorded
// them. Safe for concurrent use.
type facts struct {
	mu    sync.Mutex
	lines []string
}

// add records one fact (fmt.Sprintf of format and args).
func (f *facts) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, fmt.Sprintf(format, args...))
}

// sideBySide runs scenario against every target at once, then compares what each recorded. The
// scenario may fail its test (t.Errorf, t.Fatalf) for what must hold on any broker; the facts it
// recorded until then are compared all the same.
func sideBySide(t *testing.T, scenario func(t *testing.T, tg *target, f *facts)) {
	t.Parallel()
	results := make([]*facts, len(targets))
	t.Run("on", func(t *testing.T) { // returns once every target's run is done
		for i, tg := range targets {
			results[i] = &facts{}
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				scenario(t, tg, results[i])
			})
		}
	})
	if len(targets) < 2 {
		t.Logf("not compared with Kafka: %s", kafkaMissing)
		return
	}
	kafka, brook := results[0].lines, results[1].lines
	if d := diffLines(kafka, brook); d != "" {
		t.Errorf("Brook's facts differ from Kafka's (- Kafka only, + Brook only):\n%s", d)
	} else if testing.Verbose() {
		t.Logf("%d facts, the same on both:\n    %s", len(kafka), strings.Join(kafka, "\n    "))
	}
}

// diffLines is a line diff of a and b ("" when equal): common lines indented, a's own with "-", b's
// own with "+" (longest common subsequence; the scenarios record at most a few hundred lines).
func diffLines(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	differs := false
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out.WriteString("    " + a[i] + "\n")
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("  + " + b[j] + "\n")
			j, differs = j+1, true
		default:
			out.WriteString("  - " + a[i] + "\n")
			i, differs = i+1, true
		}
	}
	if !differs {
		return ""
	}
	return out.String()
}

// --- helpers for every scenario ----------------------------------------------------------------

// name is a topic or group name unique to this run: "go-<what>-<run id>".
func name(what string) string { return "go-" + what + "-" + runID }

// short strips this run's suffix from a name, for facts (the names are the same on both brokers
// anyway; the fact reads better without it).
func short(s string) string { return strings.TrimSuffix(s, "-"+runID) }

// errName is the Kafka error name of err ("NONE" for nil); errors that are not Kafka's are shown as
// they are.
func errName(err error) string {
	if err == nil {
		return "NONE"
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return "error: " + err.Error()
}

// codeName is the Kafka error name of a response's error code.
func codeName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if err := kerr.ErrorForCode(code); err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Message
		}
	}
	return fmt.Sprintf("code %d", code)
}

// scenarioTimeout bounds each scenario; the waits inside poll until their condition holds.
const scenarioTimeout = 40 * time.Second

func scenarioContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 50 ms until it returns nil or ctx ends; it returns cond's last error then.
func waitFor(ctx context.Context, cond func() error) error {
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (gave up: %v)", err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
