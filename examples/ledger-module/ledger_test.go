package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// The API's rule for a replica id (api/schemas.ts moduleHeartbeatBody).
var replicaIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// post runs ledger.post as the worker does: registered under the kind's name, input through the
// default JSON converter.
func post(t *testing.T, ledger *Ledger, in StepInput) (PostOutput, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(ledger.Post, activity.RegisterOptions{Name: ledgerPostKind})
	value, err := env.ExecuteActivity(ledgerPostKind, in)
	if err != nil {
		return PostOutput{}, err
	}
	var out PostOutput
	if err := value.Get(&out); err != nil {
		t.Fatalf("decoding the output: %v", err)
	}
	return out, nil
}

func stepInput(robotID string, params, input map[string]any) StepInput {
	return StepInput{
		RobotID: robotID,
		Step:    StepDefinition{Name: "post", Kind: ledgerPostKind, Params: params, TimeoutSeconds: 60},
		Input:   input,
	}
}

func entryFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, name := range names {
		if name.Name() != "attempts.log" {
			files = append(files, name.Name())
		}
	}
	return files
}

func TestPostWritesTheEntryOnceAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	first := &Ledger{Dir: dir, Replica: "replica-a"}
	second := &Ledger{Dir: dir, Replica: "replica-b"}
	params := map[string]any{"account": "4000", "currency": "EUR", "memo": "invoice 17"}

	out, err := post(t, first, stepInput("robot-1", params, map[string]any{"amount": 12.5}))
	if err != nil {
		t.Fatal(err)
	}
	if out.Account != "4000" || out.Amount != 12.5 || out.Currency != "EUR" || out.Replica != "replica-a" ||
		!strings.HasPrefix(out.EntryID, "le_") {
		t.Fatalf("unexpected output %+v", out)
	}
	written, err := os.ReadFile(filepath.Join(dir, "robot-1.post.json"))
	if err != nil {
		t.Fatal(err)
	}

	// A retry on another replica, even with different data, returns the entry already posted.
	again, err := post(t, second, stepInput("robot-1", params, map[string]any{"amount": 99.0}))
	if err != nil {
		t.Fatal(err)
	}
	if again != out {
		t.Fatalf("second attempt returned %+v, want the first entry %+v", again, out)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "robot-1.post.json"))
	if string(after) != string(written) {
		t.Fatalf("the entry was rewritten:\n%s\nthen\n%s", written, after)
	}
	if files := entryFiles(t, dir); !slices.Equal(files, []string{"robot-1.post.json"}) {
		t.Fatalf("files in LEDGER_DIR: %v", files)
	}
	attempts, _ := os.ReadFile(filepath.Join(dir, "attempts.log"))
	if string(attempts) != "robot-1.post replica-a\nrobot-1.post replica-b\n" {
		t.Fatalf("attempts.log: %q", attempts)
	}
}

func TestRacingAttemptsPublishOneEntry(t *testing.T) {
	dir := t.TempDir()
	const racers = 16
	results := make([]ledgerEntry, racers)
	fresh := make([]bool, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			ledger := &Ledger{Dir: dir, Replica: "replica-" + string(rune('a'+i))}
			entry := ledgerEntry{PostOutput: PostOutput{EntryID: entryID("robot-2.post"), Replica: ledger.Replica}}
			var err error
			results[i], fresh[i], err = ledger.writeOnce("robot-2.post", entry)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range racers {
		if fresh[i] {
			winners++
		}
		if results[i] != results[0] {
			t.Fatalf("racer %d got %+v, racer 0 got %+v", i, results[i], results[0])
		}
	}
	if winners != 1 {
		t.Fatalf("%d attempts wrote the entry, want exactly 1", winners)
	}
	if files := entryFiles(t, dir); !slices.Equal(files, []string{"robot-2.post.json"}) {
		t.Fatalf("files in LEDGER_DIR (temporary files must be gone): %v", files)
	}
}

func TestParamsAmountTakesPrecedenceOverTheRobotsData(t *testing.T) {
	ledger := &Ledger{Dir: t.TempDir(), Replica: "r"}
	out, err := post(t, ledger, stepInput("robot-3",
		map[string]any{"account": "4000", "currency": "USD", "amount": 7.0}, map[string]any{"amount": 1000.0}))
	if err != nil {
		t.Fatal(err)
	}
	if out.Amount != 7 {
		t.Fatalf("posted %v, want the params' 7", out.Amount)
	}
}

func TestBadInputIsABusinessFailureAndWritesNothing(t *testing.T) {
	valid := map[string]any{"account": "4000", "currency": "EUR"}
	with := func(key string, value any) map[string]any {
		params := map[string]any{}
		for k, v := range valid {
			params[k] = v
		}
		if value == nil {
			delete(params, key)
		} else {
			params[key] = value
		}
		return params
	}
	cases := []struct {
		name, robotID, failureType, message string
		params, input                       map[string]any
	}{
		{"zero amount", "robot-4", invalidAmount, "amount must be a number above 0, got 0", valid, map[string]any{"amount": 0.0}},
		{"negative amount", "robot-4", invalidAmount, "above 0, got -5", valid, map[string]any{"amount": -5.0}},
		{"amount as text", "robot-4", invalidAmount, "above 0, got 12", valid, map[string]any{"amount": "12"}},
		{"no amount", "robot-4", invalidAmount, "no amount", valid, map[string]any{}},
		{"unknown currency", "robot-4", unknownCurrency, `unknown currency "XYZ"`, with("currency", "XYZ"), map[string]any{"amount": 5.0}},
		{"no account", "robot-4", invalidStepInput, "params.account is required", with("account", nil), map[string]any{"amount": 5.0}},
		{"robot id leaving the directory", "../robot-4", invalidStepInput, "unusable robotId", valid, map[string]any{"amount": 5.0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := post(t, &Ledger{Dir: dir, Replica: "r"}, stepInput(tc.robotID, tc.params, tc.input))
			var failure *temporal.ApplicationError
			if !errors.As(err, &failure) {
				t.Fatalf("want an application error, got %v", err)
			}
			if !failure.NonRetryable() || failure.Type() != tc.failureType || !strings.Contains(failure.Error(), tc.message) {
				t.Fatalf("want non-retryable %s containing %q, got nonRetryable=%v type=%s: %v",
					tc.failureType, tc.message, failure.NonRetryable(), failure.Type(), failure)
			}
			if files := entryFiles(t, dir); len(files) != 0 {
				t.Fatalf("a refused post left files: %v", files)
			}
		})
	}
}

func TestDelayedPostHeartbeatsBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	ledger := &Ledger{Dir: dir, Replica: "r", Delay: 2200 * time.Millisecond}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(ledger.Post, activity.RegisterOptions{Name: ledgerPostKind})
	var mu sync.Mutex
	var heartbeatsBeforeEntry, heartbeats int
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		heartbeats++
		if _, err := os.Stat(filepath.Join(dir, "robot-5.post.json")); err != nil {
			heartbeatsBeforeEntry++
		}
	})
	started := time.Now()
	_, err := env.ExecuteActivity(ledgerPostKind,
		stepInput("robot-5", map[string]any{"account": "1", "currency": "GBP"}, map[string]any{"amount": 1.0}))
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(started); elapsed < 2200*time.Millisecond {
		t.Fatalf("returned after %v, before the delay", elapsed)
	}
	mu.Lock()
	defer mu.Unlock()
	// The SDK throttles what reaches the server (to 0.8 × the heartbeat timeout; 30 s without one),
	// so only the first is certain to be seen here.
	if heartbeats < 1 || heartbeatsBeforeEntry != heartbeats {
		t.Fatalf("%d heartbeats (%d before the entry existed), want them while it waits", heartbeats, heartbeatsBeforeEntry)
	}
}

func TestConfigRefusesWhatTheAPIWould(t *testing.T) {
	env := map[string]string{
		"RPA_API_URL": "http://api/", "RPA_API_KEY": "k", "LEDGER_DIR": "/tmp/x",
		"MODULE_NAME": "Ledger_1", "MODULE_CAPACITY": "0", "SHUTDOWN_GRACE": "ten",
	}
	_, err := loadConfig(func(name string) string { return env[name] })
	if err == nil {
		t.Fatal("want a configuration error")
	}
	for _, name := range []string{"MODULE_NAME", "MODULE_CAPACITY", "SHUTDOWN_GRACE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}

	delete(env, "MODULE_NAME")
	delete(env, "MODULE_CAPACITY")
	delete(env, "SHUTDOWN_GRACE")
	cfg, err := loadConfig(func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ModuleName != "ledger" || cfg.Capacity != 4 || cfg.ShutdownGrace != 10*time.Second ||
		cfg.APIURL != "http://api" || cfg.TemporalAddress != "127.0.0.1:7233" ||
		!replicaIDPattern.MatchString(cfg.ReplicaID) {
		t.Fatalf("defaults: %+v", cfg)
	}
}
