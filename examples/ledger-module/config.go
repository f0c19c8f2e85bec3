package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the module reads from its environment (README.md lists it).
type Config struct {
	TemporalAddress   string
	TemporalNamespace string
	APIURL            string
	APIKey            string
	ModuleName        string
	ModuleVersion     string
	Capacity          int
	LedgerDir         string
	ShutdownGrace     time.Duration
	// PostDelay holds each attempt before it writes, so a test can kill a replica mid-step.
	PostDelay time.Duration
	ReplicaID string
}

// The API's own rules for a module name and a replica id: refused here with a clear message
// rather than by a 400 at registration.
var (
	moduleNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	semverPattern     = regexp.MustCompile(`^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
	replicaUnsafe     = regexp.MustCompile(`[^A-Za-z0-9._:-]`)
)

func loadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		TemporalAddress:   envOr(getenv, "TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: envOr(getenv, "TEMPORAL_NAMESPACE", "default"),
		APIURL:            strings.TrimRight(getenv("RPA_API_URL"), "/"),
		APIKey:            getenv("RPA_API_KEY"),
		ModuleName:        envOr(getenv, "MODULE_NAME", "ledger"),
		ModuleVersion:     envOr(getenv, "MODULE_VERSION", moduleVersion),
		LedgerDir:         getenv("LEDGER_DIR"),
	}
	var problems []string
	if cfg.APIURL == "" {
		problems = append(problems, "RPA_API_URL is required (the orchestrator's API, like http://127.0.0.1:3000)")
	}
	if cfg.APIKey == "" {
		problems = append(problems, "RPA_API_KEY is required (an API key with scope modules:write)")
	}
	if cfg.LedgerDir == "" {
		problems = append(problems, "LEDGER_DIR is required (the directory the ledger entries go to)")
	}
	if !moduleNamePattern.MatchString(cfg.ModuleName) {
		problems = append(problems, "MODULE_NAME must be lowercase letters, digits and dashes, starting with a letter")
	}
	if !semverPattern.MatchString(cfg.ModuleVersion) {
		problems = append(problems, "MODULE_VERSION must be a semantic version like 1.0.0")
	}
	var err error
	if cfg.Capacity, err = intEnv(getenv, "MODULE_CAPACITY", 4, 1, 10_000); err != nil {
		problems = append(problems, err.Error())
	}
	if cfg.ShutdownGrace, err = durationEnv(getenv, "SHUTDOWN_GRACE", 10*time.Second); err != nil {
		problems = append(problems, err.Error())
	}
	delayMs, err := intEnv(getenv, "LEDGER_POST_DELAY_MS", 0, 0, 86_400_000)
	if err != nil {
		problems = append(problems, err.Error())
	}
	cfg.PostDelay = time.Duration(delayMs) * time.Millisecond
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("bad configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	cfg.ReplicaID = newReplicaID()
	return cfg, nil
}

// newReplicaID is unique per process, and readable: the host and pid say where a replica runs.
func newReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	random := make([]byte, 4)
	_, _ = rand.Read(random)
	host = replicaUnsafe.ReplaceAllString(host, "-")
	if len(host) > 64 {
		host = host[:64]
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(random))
}

func envOr(getenv func(string) string, name, fallback string) string {
	if value := getenv(name); value != "" {
		return value
	}
	return fallback
}

func intEnv(getenv func(string) string, name string, fallback, min, max int) (int, error) {
	raw := getenv(name)
	if raw == "" {
		return fallback, nil
	}
	value, err := strconv.Atoi(raw)
	if err != nil || value < min || value > max {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d (got %q)", name, min, max, raw)
	}
	return value, nil
}

func durationEnv(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	raw := getenv(name)
	if raw == "" {
		return fallback, nil
	}
	value, err := time.ParseDuration(raw)
	if err != nil || value < 0 {
		return 0, fmt.Errorf("%s must be a duration like 10s or 1m30s (got %q)", name, raw)
	}
	return value, nil
}
