// Command ledger-module is an example module for the RPA orchestrator, written in Go: it serves
// the custom step kind ledger.post on the task queue module-<MODULE_NAME> (README.md).
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

const (
	// Used until the API says how often it wants a heartbeat.
	defaultHeartbeat = 5 * time.Second
	// How long a stopping replica waits for the API to take it out of routing.
	deregisterTimeout = 3 * time.Second
	// A heartbeat slower than this is dropped; the next one is due soon anyway.
	heartbeatRequestTimeout = 3 * time.Second
)

func main() {
	os.Exit(run())
}

func run() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error(err.Error())
		return 2
	}
	logger = logger.With("module", cfg.ModuleName, "replica", cfg.ReplicaID)
	if err := os.MkdirAll(cfg.LedgerDir, 0o755); err != nil {
		logger.Error("cannot create LEDGER_DIR", "error", err)
		return 1
	}

	// The first SIGTERM/SIGINT starts a graceful stop; stopSignals() then restores the default, so a
	// second one ends the process at once.
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()

	api := newAPIClient(cfg)
	declaration := registration{
		Name:                cfg.ModuleName,
		Version:             cfg.ModuleVersion,
		Capacity:            cfg.Capacity,
		SupportedRobotTypes: []string{"*"},
		Steps:               []StepDeclaration{ledgerPostDeclaration()},
	}
	if err := registerPatiently(ctx, api, declaration, logger); err != nil {
		if ctx.Err() != nil {
			return 0 // stopped before it served anything
		}
		logger.Error("registration refused", "error", err)
		return 1
	}

	temporalClient, err := client.Dial(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Identity:  cfg.ReplicaID,
		Logger:    temporallog.NewStructuredLogger(logger),
	})
	if err != nil {
		logger.Error("cannot reach Temporal", "address", cfg.TemporalAddress, "error", err)
		return 1
	}
	defer temporalClient.Close()

	fatal := make(chan error, 1)
	w := worker.New(temporalClient, "module-"+cfg.ModuleName, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.Capacity,
		WorkerStopTimeout:                  cfg.ShutdownGrace,
		DisableWorkflowWorker:              true,
		OnFatalError:                       func(err error) { fatal <- err },
	})
	ledger := &Ledger{Dir: cfg.LedgerDir, Replica: cfg.ReplicaID, Delay: cfg.PostDelay}
	// The activity's name is the step kind: the workflow schedules the step under that name.
	w.RegisterActivityWithOptions(ledger.Post, activity.RegisterOptions{Name: ledgerPostKind})
	if err := w.Start(); err != nil {
		logger.Error("worker did not start", "error", err)
		return 1
	}

	// Heartbeats begin once the worker polls: a live replica is one that can take a step.
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		heartbeatLoop(ctx, api, declaration, cfg.ReplicaID, logger)
	}()
	logger.Info("serving", "kind", ledgerPostKind, "taskQueue", "module-"+cfg.ModuleName,
		"capacity", cfg.Capacity, "ledgerDir", cfg.LedgerDir)

	code := 0
	select {
	case <-ctx.Done():
		logger.Info("stopping", "grace", cfg.ShutdownGrace)
	case err := <-fatal:
		logger.Error("worker failed", "error", err)
		code = 1
	}
	stopSignals()
	// No heartbeat may follow the DELETE: it would make the replica live again.
	<-beating
	deregisterCtx, cancel := context.WithTimeout(context.Background(), deregisterTimeout)
	if err := api.deregister(deregisterCtx, cfg.ModuleName, cfg.ReplicaID); err != nil {
		logger.Warn("deregistration failed; the replica expires with its TTL instead", "error", err)
	}
	cancel()
	// Stops polling, then waits up to SHUTDOWN_GRACE for the steps in flight.
	w.Stop()
	logger.Info("stopped")
	return code
}

// registerPatiently registers the module, waiting out an API that is not up yet. A refusal (4xx)
// is final: the declaration itself is wrong.
func registerPatiently(ctx context.Context, api *apiClient, body registration, logger *slog.Logger) error {
	wait := time.Second
	for {
		err := api.register(ctx, body)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		logger.Warn("API not ready; retrying registration", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// heartbeatLoop keeps the replica live until ctx ends, at the pace the API asks for.
func heartbeatLoop(ctx context.Context, api *apiClient, body registration, replicaID string, logger *slog.Logger) {
	interval := defaultHeartbeat
	for {
		// Not cancelled with ctx: a heartbeat abandoned mid-request could still reach the API after
		// the replica's DELETE and make it live again. The stop waits for this one to answer.
		requestCtx, cancel := context.WithTimeout(context.Background(), heartbeatRequestTimeout)
		asked, err := api.heartbeat(requestCtx, body.Name, replicaID, body.Capacity)
		cancel()
		var refusal *apiError
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if asked > 0 {
				interval = asked
			}
		case errors.As(err, &refusal) && refusal.Status == 404:
			// The registry lost the module (a reset database): declare it again.
			logger.Warn("module unknown to the API; registering again")
			if err := api.register(ctx, body); err != nil {
				logger.Warn("registration failed", "error", err)
			}
		default:
			logger.Warn("heartbeat failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
