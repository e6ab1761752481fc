{{/* Names and labels. */}}
{{- define "pix-ingest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pix-ingest.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "pix-ingest.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "pix-ingest.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pix-ingest.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "pix-ingest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one workload: call with (dict "root" $ "component" "ingest"). */}}
{{- define "pix-ingest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pix-ingest.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pix-ingest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pix-ingest.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "pix-ingest.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The listen port of a source entry ("0.0.0.0:8080" -> 8080). */}}
{{- define "pix-ingest.port" -}}
{{- splitList ":" (toString .listen) | last -}}
{{- end -}}

{{/*
The config of one workload, as JSON (JSON is YAML, and every string stays quoted, so a `${VAR}`
value can never change the document's structure): the shared `config` plus this workload's
sources or sinks, the admin listener and the shutdown timings. Call with
(dict "root" $ "sources" LIST "sinks" LIST).
*/}}
{{- define "pix-ingest.config" -}}
{{- $v := .root.Values -}}
{{- $admin := dict "enabled" true "listen" (printf "0.0.0.0:%v" $v.admin.port) -}}
{{- if $v.admin.tokenSecret.secretName -}}
{{- $_ := set $admin "token" "${PIX_INGEST_ADMIN_TOKEN}" -}}
{{- end -}}
{{- with $v.admin.allowedEnv -}}
{{- $_ := set $admin "allowed_env" . -}}
{{- end -}}
{{- $shutdown := dict "grace" (printf "%vs" $v.shutdown.graceSeconds) -}}
{{- if ne (int $v.shutdown.drainDelaySeconds) 5 -}}
{{- $_ := set $shutdown "drain_delay" (printf "%vs" $v.shutdown.drainDelaySeconds) -}}
{{- end -}}
{{- $cfg := deepCopy $v.config -}}
{{- $_ := set $cfg "sources" .sources -}}
{{- $_ := set $cfg "sinks" .sinks -}}
{{- $_ := set $cfg "admin" $admin -}}
{{- $_ := set $cfg "shutdown" $shutdown -}}
{{- toPrettyJson $cfg -}}
{{- end -}}

{{/* The containers' environment of one workload: (dict "root" $ "component" "ingest"). */}}
{{- define "pix-ingest.env" -}}
{{- $v := .root.Values -}}
- name: PIX_INGEST_CONFIG
  value: /etc/pix-ingest/{{ .component }}.json
{{- if not (hasKey $v.env "OTEL_SERVICE_NAME") }}
- name: OTEL_SERVICE_NAME
  value: pix-ingest-{{ .component }}
{{- end }}
{{- if eq .component "sinks" }}
{{- /* A StatefulSet pod keeps its name across restarts: its sinks rejoin their consumer groups
     as the same static members and take their partitions back at once (kafka.instance_id). */}}
- name: PIX_INGEST_KAFKA_INSTANCE_ID
  valueFrom:
    fieldRef: { fieldPath: metadata.name }
{{- end }}
{{- range $name, $value := $v.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- range $name, $ref := merge (dict) ((index $v .component).secretEnv | default dict) $v.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "secretEnv.%s.secretName" $name) $ref.secretName }}
      key: {{ required (printf "secretEnv.%s.key" $name) $ref.key }}
{{- end }}
{{- with $v.admin.tokenSecret }}
{{- if .secretName }}
- name: PIX_INGEST_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ required "admin.tokenSecret.key" .key }}
{{- end }}
{{- end }}
{{- end -}}

{{/* What every pix-ingest container shares: (dict "root" $ "component" "ingest"). */}}
{{- define "pix-ingest.container" -}}
{{- $v := .root.Values -}}
image: {{ include "pix-ingest.image" .root }}
imagePullPolicy: {{ $v.image.pullPolicy }}
args: ["run"]
# The image's WORKDIR: relative paths of the config (admin state, tables, landing) resolve here.
workingDir: /var/lib/pix-ingest
env:
{{ include "pix-ingest.env" . }}
{{- with $v.envFrom }}
envFrom:
{{ toYaml . }}
{{- end }}
securityContext:
{{ toYaml $v.securityContext | indent 2 }}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "{{ $v.shutdown.drainDelaySeconds }}"]
startupProbe:
  httpGet: { path: /healthz, port: admin }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /healthz, port: admin }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* Pod-level settings shared by both workloads. */}}
{{- define "pix-ingest.podSpec" -}}
{{- $v := .Values -}}
serviceAccountName: {{ include "pix-ingest.serviceAccountName" . }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ add (mul 2 (int $v.shutdown.drainDelaySeconds)) (int $v.shutdown.graceSeconds) 10 }}
securityContext:
{{ toYaml $v.podSecurityContext | indent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
{{- end -}}
