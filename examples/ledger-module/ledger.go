package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// StepInput is the one argument every module step receives (the orchestrator's
// core/domain/step-activity.contract.ts).
type StepInput struct {
	RobotID  string                    `json:"robotId"`
	Step     StepDefinition            `json:"step"`
	Input    map[string]any            `json:"input"`
	Previous map[string]map[string]any `json:"previous"`
}

// StepDefinition is the robot type's step; this module reads its name and params only.
type StepDefinition struct {
	Name           string         `json:"name"`
	Kind           string         `json:"kind"`
	Params         map[string]any `json:"params"`
	TimeoutSeconds int            `json:"timeoutSeconds"`
}

// PostOutput is what later steps see under previous[<step name>].
type PostOutput struct {
	EntryID  string  `json:"entryId"`
	Account  string  `json:"account"`
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
	Replica  string  `json:"replica"`
}

// ledgerEntry is the file written per (robotId, step name).
type ledgerEntry struct {
	PostOutput
	Memo     string `json:"memo,omitempty"`
	RobotID  string `json:"robotId"`
	Step     string `json:"step"`
	PostedAt string `json:"postedAt"`
}

// Failure types of the step's verdicts on its input (non-retryable: the robot fails with the message).
const (
	invalidStepInput = "InvalidStepInput"
	invalidAmount    = "InvalidAmount"
	unknownCurrency  = "UnknownCurrency"
)

var knownCurrencies = map[string]bool{
	"AUD": true, "BRL": true, "CAD": true, "CHF": true, "CNY": true, "CZK": true, "DKK": true,
	"EUR": true, "GBP": true, "HKD": true, "HUF": true, "INR": true, "JPY": true, "MXN": true,
	"NOK": true, "NZD": true, "PLN": true, "SEK": true, "SGD": true, "USD": true, "ZAR": true,
}

// Both ids become a file name: nothing that could leave LEDGER_DIR or hide a file.
var (
	robotIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	stepNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// Ledger serves ledger.post. One value is shared by all the worker's concurrent attempts.
type Ledger struct {
	Dir     string
	Replica string
	// Delay holds each attempt before it writes (tests kill a replica inside it).
	Delay time.Duration
}

type postRequest struct {
	account  string
	currency string
	amount   float64
	memo     string
}

// Post writes the entry once per (robotId, step name): a retried or repeated attempt returns the
// entry already written, whichever replica wrote it.
func (l *Ledger) Post(ctx context.Context, in StepInput) (PostOutput, error) {
	if !robotIDPattern.MatchString(in.RobotID) || !stepNamePattern.MatchString(in.Step.Name) {
		return PostOutput{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("ledger.post: unusable robotId %q or step name %q", in.RobotID, in.Step.Name),
			invalidStepInput, nil)
	}
	key := in.RobotID + "." + in.Step.Name
	if err := l.logAttempt(key); err != nil {
		return PostOutput{}, err
	}
	req, err := readRequest(in)
	if err != nil {
		return PostOutput{}, err
	}
	if err := l.hold(ctx); err != nil {
		return PostOutput{}, err
	}
	entry := ledgerEntry{
		PostOutput: PostOutput{
			EntryID:  entryID(key),
			Account:  req.account,
			Amount:   req.amount,
			Currency: req.currency,
			Replica:  l.Replica,
		},
		Memo:     req.memo,
		RobotID:  in.RobotID,
		Step:     in.Step.Name,
		PostedAt: time.Now().UTC().Format(time.RFC3339Nano),
	}
	written, fresh, err := l.writeOnce(key, entry)
	if err != nil {
		return PostOutput{}, err
	}
	if !fresh {
		activity.GetLogger(ctx).Info("entry already posted; returning it", "key", key, "by", written.Replica)
	}
	return written.PostOutput, nil
}

// readRequest is the step's verdict on its params and the robot's data.
func readRequest(in StepInput) (postRequest, error) {
	params := in.Step.Params
	req := postRequest{}
	req.account, _ = params["account"].(string)
	req.currency, _ = params["currency"].(string)
	req.memo, _ = params["memo"].(string)
	if req.account == "" {
		return req, temporal.NewNonRetryableApplicationError("ledger.post: params.account is required", invalidStepInput, nil)
	}
	raw, found := params["amount"]
	if !found {
		raw, found = in.Input["amount"]
	}
	if !found {
		return req, temporal.NewNonRetryableApplicationError(
			"ledger.post: no amount (set params.amount or the robot's input.amount)", invalidAmount, nil)
	}
	amount, isNumber := raw.(float64)
	if !isNumber || math.IsNaN(amount) || math.IsInf(amount, 0) || amount <= 0 {
		return req, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("ledger.post: amount must be a number above 0, got %v", raw), invalidAmount, nil)
	}
	req.amount = amount
	if !knownCurrencies[req.currency] {
		return req, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("ledger.post: unknown currency %q", req.currency), unknownCurrency, nil)
	}
	return req, nil
}

// logAttempt appends "<robotId>.<step> <replica>": which replica started which attempt. One short
// O_APPEND write per line, so lines from concurrent attempts and replicas never interleave.
func (l *Ledger) logAttempt(key string) error {
	file, err := os.OpenFile(filepath.Join(l.Dir, "attempts.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("ledger.post: attempts log: %w", err)
	}
	_, err = file.WriteString(key + " " + l.Replica + "\n")
	if closeErr := file.Close(); err == nil {
		err = closeErr
	}
	return err
}

// hold waits the configured delay, heartbeating, so a replica killed here is noticed by its
// heartbeat timeout rather than the step's whole startToClose.
func (l *Ledger) hold(ctx context.Context) error {
	if l.Delay <= 0 {
		return nil
	}
	interval := time.Second
	if timeout := activity.GetInfo(ctx).HeartbeatTimeout; timeout > 0 && timeout/2 < interval {
		interval = timeout / 2
	}
	deadline := time.NewTimer(l.Delay)
	defer deadline.Stop()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	activity.RecordHeartbeat(ctx)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-ticker.C:
			activity.RecordHeartbeat(ctx)
		}
	}
}

// writeOnce makes the entry file exist exactly once and whole. The entry goes to a temporary file
// first (O_CREATE|O_EXCL, a name only this attempt uses), then is linked to its final name: link
// refuses an existing name, so of two racing attempts one wins, and a replica killed mid-write
// leaves no half-written entry under the final name.
func (l *Ledger) writeOnce(key string, entry ledgerEntry) (written ledgerEntry, fresh bool, err error) {
	final := filepath.Join(l.Dir, key+".json")
	if existing, err := readEntry(final); err == nil {
		return existing, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return ledgerEntry{}, false, err
	}
	data, err := json.MarshalIndent(entry, "", "  ")
	if err != nil {
		return ledgerEntry{}, false, err
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	temp := filepath.Join(l.Dir, ".tmp-"+key+"-"+hex.EncodeToString(suffix))
	if err := writeNew(temp, append(data, '\n')); err != nil {
		_ = os.Remove(temp)
		return ledgerEntry{}, false, fmt.Errorf("ledger.post: write entry: %w", err)
	}
	linkErr := os.Link(temp, final)
	_ = os.Remove(temp)
	if errors.Is(linkErr, fs.ErrExist) {
		existing, err := readEntry(final)
		return existing, false, err
	}
	if linkErr != nil {
		return ledgerEntry{}, false, fmt.Errorf("ledger.post: publish entry: %w", linkErr)
	}
	syncDir(l.Dir)
	return entry, true, nil
}

func writeNew(path string, data []byte) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.Write(data); err != nil {
		_ = file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

func readEntry(path string) (ledgerEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ledgerEntry{}, err
	}
	var entry ledgerEntry
	if err := json.Unmarshal(data, &entry); err != nil {
		return ledgerEntry{}, fmt.Errorf("ledger.post: entry %s is unreadable: %w", path, err)
	}
	return entry, nil
}

// syncDir makes the new name durable; a failure only weakens durability, never correctness.
func syncDir(dir string) {
	if handle, err := os.Open(dir); err == nil {
		_ = handle.Sync()
		_ = handle.Close()
	}
}

// entryID is derived from the idempotency key: every attempt of one step names the same entry.
func entryID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "le_" + hex.EncodeToString(sum[:8])
}
