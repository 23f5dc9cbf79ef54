{{/* Names are fixed (tickcast-*): the compiled pipelines refer to tickcast-config,
tickcast-database and tickcast-storage. One release per namespace. */}}

{{- define "tickcast.labels" -}}
app.kubernetes.io/part-of: tickcast
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "tickcast.selector" -}}
app.kubernetes.io/part-of: tickcast
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tickcast.image" -}}
{{ printf "%s/%s:%s" .root.Values.image.registry .name .root.Values.image.tag }}
{{- end }}

{{- define "tickcast.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid | default 10001 }}
runAsGroup: {{ .uid | default 10001 }}
fsGroup: {{ .uid | default 10001 }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "tickcast.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{- define "tickcast.pullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* A generated password that survives upgrades: reuse the one already in the Secret. */}}
{{- define "tickcast.password" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if .value -}}
{{ .value }}
{{- else if and $existing (index $existing.data .key) -}}
{{ index $existing.data .key | b64dec }}
{{- else -}}
{{ randAlphaNum 32 }}
{{- end -}}
{{- end }}

{{- define "tickcast.postgresPassword" -}}
{{ include "tickcast.password" (dict "root" . "secret" "tickcast-postgres" "key" "password" "value" .Values.postgres.password) }}
{{- end }}

{{- define "tickcast.minioPassword" -}}
{{ include "tickcast.password" (dict "root" . "secret" "tickcast-storage" "key" "secret-key" "value" .Values.minio.rootPassword) }}
{{- end }}

{{- define "tickcast.postgresHost" -}}
{{ printf "tickcast-postgres.%s.svc.cluster.local" .Release.Namespace }}
{{- end }}

{{- define "tickcast.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}
{{ printf "http://tickcast-minio.%s.svc.cluster.local:9000" .Release.Namespace }}
{{- else -}}
{{ required "external.s3.endpoint is required when minio.enabled is false" .Values.external.s3.endpoint }}
{{- end -}}
{{- end }}

{{- define "tickcast.bucket" -}}
{{- if .Values.minio.enabled -}}{{ .Values.minio.bucket }}{{- else -}}{{ required "external.s3.bucket is required when minio.enabled is false" .Values.external.s3.bucket }}{{- end -}}
{{- end }}

{{- define "tickcast.mlflowUrl" -}}
{{ printf "http://tickcast-mlflow.%s.svc.cluster.local:5000" .Release.Namespace }}
{{- end }}

{{/* The namespaces that hold tickcast's ConfigMap and Secrets: the release's and the pipelines'. */}}
{{- define "tickcast.configNamespaces" -}}
{{- $namespaces := list .Release.Namespace -}}
{{- if and .Values.kfp.runNamespace (ne .Values.kfp.runNamespace .Release.Namespace) -}}
{{- $namespaces = append $namespaces .Values.kfp.runNamespace -}}
{{- end -}}
{{ join " " $namespaces }}
{{- end }}
