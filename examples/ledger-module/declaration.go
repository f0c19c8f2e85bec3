package main

// The contract this module registers: what the orchestrator's catalog shows for ledger.post and
// checks robot types against. A breaking change to it needs a new kind name (one kind, one
// contract major), so ledgerPostVersion moves only by minor and patch.

const (
	moduleVersion     = "1.0.0"
	ledgerPostKind    = "ledger.post"
	ledgerPostVersion = "1.0.0"
)

// StepDeclaration is one entry of the registration's `steps`.
type StepDeclaration struct {
	Kind         string         `json:"kind"`
	Version      string         `json:"version"`
	Description  string         `json:"description,omitempty"`
	Params       map[string]any `json:"params,omitempty"`
	Input        map[string]any `json:"input,omitempty"`
	Output       map[string]any `json:"output,omitempty"`
	SecretParams []string       `json:"secretParams,omitempty"`
}

func ledgerPostDeclaration() StepDeclaration {
	return StepDeclaration{
		Kind:        ledgerPostKind,
		Version:     ledgerPostVersion,
		Description: "Posts one entry to the ledger, exactly once per robot and step",
		Params: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"account":  map[string]any{"type": "string", "minLength": 1, "maxLength": 64},
				"currency": map[string]any{"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"},
				// Usually the robot's data carries the amount; a fixed one here takes precedence.
				"amount": map[string]any{"type": "number", "exclusiveMinimum": 0},
				"memo":   map[string]any{"type": "string", "maxLength": 200},
			},
			"required":             []string{"account", "currency"},
			"additionalProperties": false,
		},
		Input: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"amount": map[string]any{"type": "number", "description": "posted when params has no amount"},
			},
		},
		Output: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"entryId":  map[string]any{"type": "string"},
				"account":  map[string]any{"type": "string"},
				"amount":   map[string]any{"type": "number"},
				"currency": map[string]any{"type": "string"},
				"replica":  map[string]any{"type": "string", "description": "the replica that wrote the entry"},
			},
			"required": []string{"entryId", "account", "amount", "currency", "replica"},
		},
	}
}
