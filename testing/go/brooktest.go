// Package brooktest runs a throwaway Brook broker (a Kafka-compatible broker) for a Go test and
// drives its control API: fault injection, pause, reset and the request log.
//
//	func TestOrders(t *testing.T) {
//		b := brooktest.Start(t)
//		client, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
//		b.InjectError("Produce", "NOT_LEADER_OR_FOLLOWER", brooktest.Count(1))
//	}
//
// Start runs `brook-server --ephemeral --exit-on-stdin-eof` (found through $BROOK_SERVER, then PATH)
// with a pipe on its stdin that only this process holds: the broker stops when the test's cleanup
// closes the pipe, and also when the test process dies, so it cannot outlive the test. Its data is
// in a temporary directory that it removes at exit.
package brooktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// How long the broker may take to announce itself, and to stop.
const (
	StartTimeout   = 30 * time.Second
	StopTimeout    = 30 * time.Second
	controlTimeout = 30 * time.Second
)

// Broker is one running brook-server. Its methods fail the test (t.Fatalf) when the control API
// refuses a call; they are safe to call from the test's goroutine only, as t.Fatalf is.
type Broker struct {
	t         testing.TB
	bootstrap string
	control   string
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	log       *lockedBuffer
	http      *http.Client
	stopOnce  sync.Once
}

// Option configures Start.
type Option func(*options)

type options struct {
	server    string
	overrides [][2]string
	logOutput io.Writer
}

// WithOverride sets one broker config (as `--override key=value`), winning over the ephemeral defaults.
func WithOverride(key, value string) Option {
	return func(o *options) { o.overrides = append(o.overrides, [2]string{key, value}) }
}

// WithServer names the brook-server binary (default: $BROOK_SERVER, then brook-server on PATH).
func WithServer(path string) Option { return func(o *options) { o.server = path } }

// WithLogOutput copies the broker's log (its stderr) to w as well.
func WithLogOutput(w io.Writer) Option { return func(o *options) { o.logOutput = w } }

// FindServer returns the brook-server to run: $BROOK_SERVER, else brook-server on PATH.
func FindServer() (string, error) {
	if p := os.Getenv("BROOK_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("brook-server")
	if err != nil {
		return "", fmt.Errorf("brook-server not found: put it on PATH or set BROOK_SERVER to its path")
	}
	return p, nil
}

// Start runs a broker for the test and registers its stop with t.Cleanup. It fails the test if the
// broker cannot be started, and the cleanup fails it if the broker does not exit cleanly.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.server == "" {
		p, err := FindServer()
		if err != nil {
			t.Fatal(err)
		}
		o.server = p
	}
	args := []string{"--ephemeral", "--exit-on-stdin-eof"}
	for _, kv := range o.overrides {
		args = append(args, "--override", kv[0]+"="+kv[1])
	}
	b := &Broker{t: t, log: &lockedBuffer{}, http: &http.Client{Timeout: controlTimeout}}
	b.cmd = exec.Command(o.server, args...)
	if o.logOutput != nil {
		b.cmd.Stderr = io.MultiWriter(b.log, o.logOutput)
	} else {
		b.cmd.Stderr = b.log
	}
	stdin, err := b.cmd.StdinPipe()
	if err != nil {
		t.Fatalf("brooktest: %v", err)
	}
	b.stdin = stdin
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("brooktest: %v", err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("brooktest: starting %s: %v", o.server, err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("brooktest: %v", err)
		}
	})

	lines := make(chan string, 2)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for i := 0; i < 2; i++ {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSpace(line)
		}
		_, _ = io.Copy(io.Discard, r) // nothing more is printed; keep the pipe drained anyway
	}()
	deadline := time.After(StartTimeout)
	for _, prefix := range []string{"bootstrap.servers=", "control="} {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("brooktest: brook-server exited before printing %q\n%s", prefix, b.LogTail())
			}
			if !strings.HasPrefix(line, prefix) {
				t.Fatalf("brooktest: brook-server printed %q, expected %q...", line, prefix)
			}
			if prefix == "control=" {
				b.control = strings.TrimPrefix(line, prefix)
			} else {
				b.bootstrap = strings.TrimPrefix(line, prefix)
			}
		case <-deadline:
			t.Fatalf("brooktest: brook-server printed no %q line within %v\n%s", prefix, StartTimeout, b.LogTail())
		}
	}
	return b
}

// BootstrapServers is the value for the client's bootstrap servers ("127.0.0.1:PORT").
func (b *Broker) BootstrapServers() string { return b.bootstrap }

// ControlURL is the base URL of the broker's control API.
func (b *Broker) ControlURL() string { return b.control }

// Stop closes the broker's stdin (it stops cleanly and removes its data) and waits for it, sending
// SIGTERM, then SIGKILL, if it takes longer than StopTimeout. Start's cleanup calls it; later calls
// do nothing.
func (b *Broker) Stop() error {
	var err error
	b.stopOnce.Do(func() {
		_ = b.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- b.cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(StopTimeout):
			_ = b.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err = <-done:
			case <-time.After(StopTimeout):
				_ = b.cmd.Process.Kill()
				<-done
				err = fmt.Errorf("brook-server did not stop; killed")
			}
		}
		if err != nil {
			err = fmt.Errorf("brook-server: %v\n%s", err, b.LogTail())
		}
	})
	return err
}

// LogTail is the end of the broker's log.
func (b *Broker) LogTail() string {
	s := b.log.String()
	if len(s) > 8000 {
		s = s[len(s)-8000:]
	}
	return s
}

// --- control API ---------------------------------------------------------------------------------

// FaultOption narrows or repeats a fault rule.
type FaultOption func(map[string]any)

// Count makes a rule apply to the next n matching requests (or operations).
func Count(n int) FaultOption { return func(m map[string]any) { m["count"] = n } }

// Topic limits a rule to requests (or appends) for one topic.
func Topic(name string) FaultOption { return func(m map[string]any) { m["topic"] = name } }

// Group limits a rule to requests for one consumer group.
func Group(name string) FaultOption { return func(m map[string]any) { m["group"] = name } }

// Rule is a fault rule in force, as the control API lists it (id, kind and the rule's fields).
type Rule map[string]any

// ID is the rule's id.
func (r Rule) ID() int {
	f, _ := r["id"].(float64)
	return int(f)
}

// Request is one entry of the broker's request log.
type Request struct {
	API           string `json:"api"`
	APIKey        int16  `json:"api_key"`
	APIVersion    int16  `json:"api_version"`
	ClientID      string `json:"client_id"`
	CorrelationID int32  `json:"correlation_id"`
}

func (b *Broker) call(method, path string, body any, out any) {
	b.t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatalf("brooktest: %v", err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.control+path, reader)
	if err != nil {
		b.t.Fatalf("brooktest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("brooktest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("brooktest: %s %s: %v", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = string(data)
		}
		b.t.Fatalf("brooktest: %s %s: %d %s", method, path, resp.StatusCode, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.t.Fatalf("brooktest: %s %s: bad answer %q: %v", method, path, data, err)
		}
	}
}

func (b *Broker) addRule(path string, body map[string]any, opts []FaultOption) int {
	b.t.Helper()
	for _, opt := range opts {
		opt(body)
	}
	var out struct {
		ID int `json:"id"`
	}
	b.call("POST", path, body, &out)
	return out.ID
}

// Reset deletes every topic, group, committed offset and producer state, and clears the fault rules
// and the request log; the broker keeps serving.
func (b *Broker) Reset() {
	b.t.Helper()
	b.call("POST", "/reset", map[string]any{}, nil)
}

// CreateTopic creates a topic with the given partitions and topic configs (nil for none).
func (b *Broker) CreateTopic(name string, partitions int, configs map[string]string) {
	b.t.Helper()
	if configs == nil {
		configs = map[string]string{}
	}
	b.call("POST", "/topics", map[string]any{"name": name, "partitions": partitions, "configs": configs}, nil)
}

// InjectError answers the next matching requests of api (Kafka's name: "Produce", "OffsetCommit")
// with the error (Kafka's name: "NOT_LEADER_OR_FOLLOWER"); one request unless Count says more.
// Returns the rule's id.
func (b *Broker) InjectError(api, errorName string, opts ...FaultOption) int {
	b.t.Helper()
	return b.addRule("/faults/errors", map[string]any{"api": api, "error": errorName}, opts)
}

// Delay holds the answers to api for d: to the next Count(n) requests, or until the rule is cleared.
func (b *Broker) Delay(api string, d time.Duration, opts ...FaultOption) int {
	b.t.Helper()
	return b.addRule("/faults/delay", map[string]any{"api": api, "ms": d.Milliseconds()}, opts)
}

// DropConnection closes the connection on receipt of the next request of api (Count for more), unanswered.
func (b *Broker) DropConnection(api string, opts ...FaultOption) int {
	b.t.Helper()
	return b.addRule("/faults/drop", map[string]any{"api": api}, opts)
}

// CapVersion makes ApiVersions advertise at most maxVersion for api, until the rule is cleared.
func (b *Broker) CapVersion(api string, maxVersion int) int {
	b.t.Helper()
	return b.addRule("/faults/version-cap", map[string]any{"api": api, "max_version": maxVersion}, nil)
}

// DiskFault fails the next log operation op ("append" or "fsync") with errno ("EIO" or "ENOSPC").
func (b *Broker) DiskFault(op, errno string, opts ...FaultOption) int {
	b.t.Helper()
	return b.addRule("/faults/disk", map[string]any{"op": op, "error": errno}, opts)
}

// Faults lists the fault rules in force.
func (b *Broker) Faults() []Rule {
	b.t.Helper()
	var out struct {
		Rules []Rule `json:"rules"`
	}
	b.call("GET", "/faults", nil, &out)
	return out.Rules
}

// ClearFault removes one rule; ClearFaults removes them all.
func (b *Broker) ClearFault(id int) {
	b.t.Helper()
	b.call("DELETE", fmt.Sprintf("/faults/%d", id), nil, nil)
}

// ClearFaults removes every fault rule.
func (b *Broker) ClearFaults() {
	b.t.Helper()
	b.call("DELETE", "/faults", nil, nil)
}

// Pause stops answering: connections stay open and are accepted, nothing is answered until Resume.
func (b *Broker) Pause() {
	b.t.Helper()
	b.call("POST", "/pause", map[string]any{}, nil)
}

// Resume answers again, starting with what arrived while paused.
func (b *Broker) Resume() {
	b.t.Helper()
	b.call("POST", "/resume", map[string]any{}, nil)
}

// CloseConnections closes every client connection and returns how many there were.
func (b *Broker) CloseConnections() int {
	b.t.Helper()
	var out struct {
		Closed int `json:"closed"`
	}
	b.call("POST", "/connections/close", map[string]any{}, &out)
	return out.Closed
}

// Requests returns the broker's request log, oldest first (bounded); only those of api if it is not "".
func (b *Broker) Requests(api string) []Request {
	b.t.Helper()
	var out struct {
		Requests []Request `json:"requests"`
	}
	b.call("GET", "/requests", nil, &out)
	if api == "" {
		return out.Requests
	}
	var matching []Request
	for _, r := range out.Requests {
		if r.API == api {
			matching = append(matching, r)
		}
	}
	return matching
}

// ClearRequests empties the request log.
func (b *Broker) ClearRequests() {
	b.t.Helper()
	b.call("DELETE", "/requests", nil, nil)
}

// lockedBuffer collects the broker's log; written by exec's copying goroutine, read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
