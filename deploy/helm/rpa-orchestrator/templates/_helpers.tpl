{{/* Names and labels. */}}
{{- define "rpa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rpa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "rpa.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "rpa.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rpa.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rpa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "root" $ "component" "api"). */}}
{{- define "rpa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rpa.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rpa.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rpa.secretName" -}}
{{- default (include "rpa.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
Secret variables as secretKeyRefs. DATABASE_URL is required: without it the pod does not start
(CreateContainerConfigError names the key). The others are optional in an existing Secret and left
out when the chart renders the Secret without them.
*/}}
{{- define "rpa.secretEnv" -}}
{{- $secret := include "rpa.secretName" . -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: DATABASE_URL
{{- range $key := list "DATABASE_READ_URL" "REDIS_URL" "SECRETS_KEYS" "METRICS_TOKEN" "SMTP_URL" "TEMPORAL_API_KEY" "S3_ACCESS_KEY_ID" "S3_SECRET_ACCESS_KEY" }}
{{- if or $.Values.secrets.existingSecret (get $.Values.secrets $key) }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
      {{- if $.Values.secrets.existingSecret }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Extra variables of one role, from a map. */}}
{{- define "rpa.extraEnv" -}}
{{- range $key, $value := . }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* envFrom of every long-running process: the ConfigMap. */}}
{{- define "rpa.envFrom" -}}
- configMapRef:
    name: {{ include "rpa.fullname" . }}
{{- end -}}

{{/* Volumes of every long-running process. */}}
{{- define "rpa.volumes" -}}
- name: tmp
  emptyDir: {}
- name: documents
  {{- if .Values.documents.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.documents.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.existingSecret }}
{{- end }}
{{- with .Values.temporal.profile.existingSecret }}
- name: temporal-profile
  secret:
    secretName: {{ . }}
{{- end }}
{{- end -}}

{{- define "rpa.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: documents
  mountPath: /data/documents
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/rpa/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.temporal.profile.existingSecret }}
- name: temporal-profile
  mountPath: /etc/rpa/temporal-profile
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod. */}}
{{- define "rpa.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Rolls the pods when the settings change. */}}
{{- define "rpa.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Worker containers' env, ports and probes: call with (dict "root" $ "env" <map>). */}}
{{- define "rpa.workerEnv" -}}
- name: WORKER_METRICS_HOST
  value: "0.0.0.0"
- name: WORKER_METRICS_PORT
  value: {{ .root.Values.workerMetrics.port | quote }}
{{- if .root.Values.workerMetrics.temporalSdkPort }}
- name: TEMPORAL_METRICS_BIND
  value: {{ printf "0.0.0.0:%v" .root.Values.workerMetrics.temporalSdkPort | quote }}
{{- end }}
- name: WORKER_SHUTDOWN_GRACE_SECONDS
  value: {{ .root.Values.workers.shutdownGraceSeconds | quote }}
{{ include "rpa.secretEnv" .root }}
{{- include "rpa.extraEnv" .env }}
{{- end -}}

{{/*
Workers answer GET /healthz on their metrics port without a token (workers/metrics-server.ts). The
port opens once the worker has connected to Temporal and Postgres: the startup probe allows for a
slow first connect.
*/}}
{{- define "rpa.workerPortsAndProbes" -}}
ports:
  - name: metrics
    containerPort: {{ .Values.workerMetrics.port }}
    protocol: TCP
  {{- if .Values.workerMetrics.temporalSdkPort }}
  - name: sdk-metrics
    containerPort: {{ .Values.workerMetrics.temporalSdkPort }}
    protocol: TCP
  {{- end }}
startupProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 5
  failureThreshold: 36
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* Refuses grace periods that would cut a graceful stop short (ADR 0054). */}}
{{- define "rpa.checkGrace" -}}
{{- $api := .Values.api -}}
{{- if le (int $api.terminationGracePeriodSeconds) (add (int $api.shutdownDelaySeconds) (int $api.shutdownTimeoutSeconds) | int) -}}
{{- fail (printf "api.terminationGracePeriodSeconds (%v) must exceed api.shutdownDelaySeconds + api.shutdownTimeoutSeconds (%v)" $api.terminationGracePeriodSeconds (add $api.shutdownDelaySeconds $api.shutdownTimeoutSeconds)) -}}
{{- end -}}
{{- $w := .Values.workers -}}
{{- if le (int $w.terminationGracePeriodSeconds) (add (int $w.shutdownGraceSeconds) 10 | int) -}}
{{- fail (printf "workers.terminationGracePeriodSeconds (%v) must exceed workers.shutdownGraceSeconds + 10 (%v): the SDK cuts running steps 10 s after the grace" $w.terminationGracePeriodSeconds (add $w.shutdownGraceSeconds 10)) -}}
{{- end -}}
{{- end -}}

{{/*
Refuses settings in `config` that belong elsewhere: secret ones would land in a ConfigMap in plain
text, and the ones the chart derives from other values would clash with them.
*/}}
{{- define "rpa.checkConfig" -}}
{{- $secret := list "DATABASE_URL" "DATABASE_READ_URL" "DATABASE_MIGRATION_URL" "REDIS_URL" "SECRETS_KEYS" "METRICS_TOKEN" "SMTP_URL" "TEMPORAL_API_KEY" "S3_ACCESS_KEY_ID" "S3_SECRET_ACCESS_KEY" -}}
{{- $derived := dict "DOCUMENTS_DIR" "documents.existingClaim" "TEMPORAL_TLS" "temporal.tls.enabled" "TEMPORAL_TLS_CERT_PATH" "temporal.tls" "TEMPORAL_TLS_KEY_PATH" "temporal.tls" "TEMPORAL_TLS_CA_PATH" "temporal.tls.caKey" "HOST" "api.port" "PORT" "api.port" "TRUST_PROXY" "api.trustProxy" "API_SHUTDOWN_DELAY_SECONDS" "api.shutdownDelaySeconds" "API_SHUTDOWN_TIMEOUT_SECONDS" "api.shutdownTimeoutSeconds" "WORKER_METRICS_HOST" "workerMetrics.port" "WORKER_METRICS_PORT" "workerMetrics.port" "TEMPORAL_METRICS_BIND" "workerMetrics.temporalSdkPort" "WORKER_SHUTDOWN_GRACE_SECONDS" "workers.shutdownGraceSeconds" -}}
{{- if .Values.temporal.profile.existingSecret -}}
{{- $derived = merge $derived (dict "TEMPORAL_CONFIG_FILE" "temporal.profile.existingSecret" "TEMPORAL_PROFILE" "temporal.profile.name") -}}
{{- end -}}
{{- range $key, $_ := .Values.config -}}
{{- if has $key $secret -}}
{{- fail (printf "config.%s is a secret: set secrets.%s or put it in secrets.existingSecret" $key $key) -}}
{{- end -}}
{{- if hasKey $derived $key -}}
{{- fail (printf "config.%s is set by the chart: use %s" $key (get $derived $key)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Refuses a release whose API and worker pods would only start to exit: DATABASE_URL always (every pod
reads it from the Secret), and with config.NODE_ENV=production what core/config.ts then requires of
`rpa api` and `rpa worker` (ADR 0059). Every missing value is named at once. An existing Secret is
taken on trust: the chart cannot read it at render time.
*/}}
{{- define "rpa.checkRequired" -}}
{{- $missing := list -}}
{{- $production := eq (toString (.Values.config.NODE_ENV | default "development")) "production" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if not .Values.secrets.DATABASE_URL -}}
{{- $missing = append $missing "secrets.DATABASE_URL: the app role's Postgres URL (every pod reads it)" -}}
{{- end -}}
{{- if and $production (not .Values.secrets.REDIS_URL) -}}
{{- $missing = append $missing "secrets.REDIS_URL: required with config.NODE_ENV=production (limits, circuits and caches shared by every pod)" -}}
{{- end -}}
{{- if and $production (not .Values.secrets.SECRETS_KEYS) -}}
{{- $missing = append $missing "secrets.SECRETS_KEYS: required with config.NODE_ENV=production (id:base64key, a 32-byte key: k1:$(openssl rand -base64 32))" -}}
{{- end -}}
{{- end -}}
{{- if and $production (not .Values.config.TEMPORAL_ADDRESS) (not .Values.config.TEMPORAL_CONFIG_FILE) (not .Values.config.TEMPORAL_PROFILE) (not .Values.temporal.profile.existingSecret) -}}
{{- $missing = append $missing "config.TEMPORAL_ADDRESS: required with config.NODE_ENV=production (host:port of the Temporal frontend), or a profile file in temporal.profile.existingSecret" -}}
{{- end -}}
{{- if $missing -}}
{{- fail (printf "missing required values (the pods would exit at start without them):\n  %s\nSet them (--set, or -f a values file), or put the secret ones in a Secret of your own and name it in secrets.existingSecret (docs/deploy-kubernetes.md)." (join "\n  " $missing)) -}}
{{- end -}}
{{- end -}}
