{{/* Names and labels. */}}
{{- define "igw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "igw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "igw.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "igw.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "igw.serviceName" -}}
{{- default (include "igw.fullname" .) .Values.service.name }}
{{- end }}

{{- define "igw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "igw.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "igw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "igw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "igw.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "igw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.mode }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Fails on a mode the chart does not know, and on an epp without a pool. */}}
{{- define "igw.validate" -}}
{{- if not (has .Values.mode (list "proxy" "epp")) }}
{{- fail (printf "mode must be proxy or epp, not %q" .Values.mode) }}
{{- end }}
{{- if and (eq .Values.mode "epp") (not .Values.epp.poolName) }}
{{- fail "epp mode needs epp.poolName: the InferencePool this endpoint picker serves" }}
{{- end }}
{{- if and .Values.pickerConfig.text .Values.pickerConfig.existingConfigMap }}
{{- fail "pickerConfig.text and pickerConfig.existingConfigMap are exclusive: the EndpointPickerConfig has one source" }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding the EndpointPickerConfig; empty when there is none. */}}
{{- define "igw.pickerConfigMap" -}}
{{- if .Values.pickerConfig.text }}{{ include "igw.fullname" . }}-picker-config{{ else }}{{ .Values.pickerConfig.existingConfigMap }}{{ end }}
{{- end }}

{{- define "igw.leaderElection" -}}
{{- if gt (int .Values.replicas) 1 }}true{{ end }}
{{- end }}

{{/*
The igw command line: every flag the chart passes is here and nowhere else.
One YAML list item per argument.
*/}}
{{- define "igw.args" -}}
{{- if eq .Values.mode "proxy" }}
- serve
{{- else }}
- epp
{{- end }}
- --kube
{{- with .Values.kube.watchNamespace }}
- --namespace
- {{ . | quote }}
{{- end }}
{{- if eq .Values.mode "proxy" }}
{{- with .Values.proxy.gatewayClassName }}
- --gateway-class
- {{ . | quote }}
{{- end }}
{{- else }}
- --pool-name
- {{ .Values.epp.poolName | quote }}
- --pool-namespace
- {{ default .Release.Namespace .Values.epp.poolNamespace | quote }}
- --grpc-port
- {{ .Values.epp.grpcPort | quote }}
- --grpc-health-port
- {{ .Values.epp.grpcHealthPort | quote }}
- --metrics-port
- {{ .Values.epp.metricsPort | quote }}
{{- end }}
{{- if include "igw.leaderElection" . }}
- --leader-elect
- --leader-elect-namespace
- {{ .Release.Namespace | quote }}
- --leader-elect-lease-name
- {{ include "igw.fullname" . | quote }}
- --leader-elect-lease-duration
- {{ printf "%ds" (int .Values.leaderElection.leaseDuration) | quote }}
{{- end }}
{{- with include "igw.pickerConfigMap" . }}
- --config-map
- {{ printf "%s/%s" $.Release.Namespace . | quote }}
- --config-map-key
- {{ $.Values.pickerConfig.key | quote }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* Name of the Service port Prometheus scrapes. */}}
{{- define "igw.metricsPortName" -}}
{{- if eq .Values.mode "epp" }}metrics{{ else }}{{ (first .Values.proxy.ports).name }}{{ end }}
{{- end }}
