{{- define "edge-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edge-agent.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "edge-agent.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "edge-agent.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "edge-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edge-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "edge-agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "edge-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: site-agent
{{- end }}

{{- define "edge-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "edge-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "edge-agent.usersSecret" -}}
{{- default (printf "%s-users" (include "edge-agent.fullname" .)) .Values.users.existingSecret }}
{{- end }}

{{- define "edge-agent.tlsSecret" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else if .Values.tls.certificate }}
{{- printf "%s-tls" (include "edge-agent.fullname" .) }}
{{- end }}
{{- end }}

{{- /* The names clients use: the Service's DNS names, the Route's host, extra names. */ -}}
{{- define "edge-agent.tlsNames" -}}
{{- $service := include "edge-agent.fullname" . }}
{{- $names := list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) (printf "%s.%s.svc.cluster.local" $service .Release.Namespace) }}
{{- if and .Values.route.enabled .Values.route.host }}
{{- $names = append $names .Values.route.host }}
{{- end }}
{{- concat $names .Values.tls.extraNames | uniq | toJson }}
{{- end }}

{{- define "edge-agent.linux" -}}
{{- if eq .Values.backend "linux" }}true{{ end }}
{{- end }}

{{- /* The exec probe: edge-agent health over gRPC with TLS (kubelet's own gRPC probe has no TLS). */ -}}
{{- define "edge-agent.healthCommand" -}}
- edge-agent
- health
- --config
- /etc/edge-agent/agent.toml
- --timeout
- {{ .Values.probes.timeoutSeconds | quote }}
{{- end }}

{{- /* Restricted container security: no privilege escalation, a read-only root, no
capabilities. With the linux backend the agent runs as root with NET_ADMIN alone (netlink
needs it); its init container as root with none. Call with (list $ netAdmin). */ -}}
{{- define "edge-agent.containerSecurity" -}}
{{- $ := index . 0 }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
  {{- if and (index . 1) (include "edge-agent.linux" $) }}
  add: [NET_ADMIN]
  {{- end }}
{{- if include "edge-agent.linux" $ }}
runAsUser: 0
runAsNonRoot: false
{{- end }}
{{- end }}
