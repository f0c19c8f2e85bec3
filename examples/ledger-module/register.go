package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient speaks to the orchestrator's module registry (docs/api.md, "Modules").
type apiClient struct {
	base string
	key  string
	http *http.Client
}

func newAPIClient(cfg Config) *apiClient {
	return &apiClient{base: cfg.APIURL, key: cfg.APIKey, http: &http.Client{Timeout: 10 * time.Second}}
}

type registration struct {
	Name                string            `json:"name"`
	Version             string            `json:"version"`
	Capacity            int               `json:"capacity"`
	SupportedRobotTypes []string          `json:"supportedRobotTypes"`
	Steps               []StepDeclaration `json:"steps"`
}

// apiError is a refusal the API answered with a problem document (RFC 9457).
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string { return fmt.Sprintf("API answered %d: %s", e.Status, e.Detail) }

// transient: worth asking again (the API restarting, overloaded or rate limiting).
func transient(err error) bool {
	var refusal *apiError
	if errors.As(err, &refusal) {
		return refusal.Status >= 500 || refusal.Status == http.StatusTooManyRequests
	}
	return err != nil
}

func (c *apiClient) register(ctx context.Context, body registration) error {
	return c.call(ctx, http.MethodPost, "/v1/modules", body, nil)
}

// heartbeat keeps the replica live; the API answers how often it wants to hear from it.
func (c *apiClient) heartbeat(ctx context.Context, name, replicaID string, capacity int) (time.Duration, error) {
	var answer struct {
		HeartbeatSeconds float64 `json:"heartbeatSeconds"`
	}
	err := c.call(ctx, http.MethodPost, "/v1/modules/"+url.PathEscape(name)+"/heartbeat",
		map[string]any{"replicaId": replicaID, "capacity": capacity}, &answer)
	if err != nil {
		return 0, err
	}
	return time.Duration(answer.HeartbeatSeconds * float64(time.Second)), nil
}

// deregister removes the replica from routing at once, rather than after the replica TTL.
func (c *apiClient) deregister(ctx context.Context, name, replicaID string) error {
	err := c.call(ctx, http.MethodDelete,
		"/v1/modules/"+url.PathEscape(name)+"/replicas/"+url.PathEscape(replicaID), nil, nil)
	var refusal *apiError
	if errors.As(err, &refusal) && refusal.Status == http.StatusNotFound {
		return nil // already gone (expired): what we wanted
	}
	return err
}

func (c *apiClient) call(ctx context.Context, method, path string, body, answer any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return &apiError{Status: res.StatusCode, Detail: problemDetail(data)}
	}
	if answer != nil && len(data) > 0 {
		return json.Unmarshal(data, answer)
	}
	return nil
}

// problemDetail is the problem's detail plus its field errors: what an operator needs to fix it.
func problemDetail(data []byte) string {
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(data, &problem) != nil || (problem.Detail == "" && problem.Title == "") {
		return strings.TrimSpace(string(data))
	}
	text := problem.Detail
	if text == "" {
		text = problem.Title
	}
	for _, field := range problem.Errors {
		text += fmt.Sprintf("; %s: %s", field.Field, field.Message)
	}
	return text
}
