{{/* The daily pipeline's arguments (trials, GPUs, node selector) as a JSON list: the CronJob and
the bootstrap Job submit the same run. */}}
{{- define "tickcast.dailyArguments" -}}
{{- $args := list "--trials" (toString .Values.daily.trials) "--gpus" (toString .Values.daily.gpus) }}
{{- with .Values.daily.gpuNodeSelector }}
{{- $args = concat $args (list "--gpu-node-selector" (toJson .)) }}
{{- end }}
{{- if .Values.raycluster.enabled }}
{{- /* The search runs on the RayCluster's GPU workers: the tune pod is only its client. */}}
{{- $args = concat $args (list "--search-gpus" "0") }}
{{- end }}
{{- toJson $args }}
{{- end }}

{{/* The pod of a job that talks to Kubeflow Pipelines with the runtime image: `args` is its
command. Shared by the daily CronJob and the pipeline-upload Job. */}}
{{- define "tickcast.kfpPod" -}}
metadata:
  labels:
    {{- include "tickcast.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  serviceAccountName: tickcast-pipelines
  automountServiceAccountToken: false
  restartPolicy: Never
  {{- include "tickcast.pullSecrets" .root | nindent 2 }}
  securityContext:
    {{- include "tickcast.podSecurity" dict | nindent 4 }}
  containers:
    - name: {{ .component }}
      image: {{ include "tickcast.image" (dict "root" .root "name" "runtime") }}
      imagePullPolicy: {{ .root.Values.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      env:  # it only talks to KFP: no database or storage secrets
        - name: TICKCAST_CONFIG
          value: /etc/tickcast/tickcast.yaml
        # What it sends to KFP runs the chart's images, not the compiled YAML's tickcast/…
        - name: TICKCAST_IMAGE_REGISTRY
          value: {{ .root.Values.image.registry | quote }}
        - name: TICKCAST_IMAGE_TAG
          value: {{ .root.Values.image.tag | quote }}
        # ... pulled with these Secrets (every step's pod; they must exist in kfp.runNamespace).
        - name: TICKCAST_IMAGE_PULL_SECRETS
          value: {{ join "," .root.Values.image.pullSecrets | quote }}
        # A failed daily run is told to the webhooks (not stored: no database credentials here)
        - name: TICKCAST_ALERTS__WEBHOOKS
          valueFrom:
            secretKeyRef:
              name: tickcast-alerts
              key: webhooks
              optional: true
      resources:
        {{- toYaml .resources | nindent 8 }}
      securityContext:
        {{- include "tickcast.containerSecurity" . | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/tickcast
          readOnly: true
        - name: kfp-token
          mountPath: /var/run/secrets/kubeflow/pipelines
          readOnly: true
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: tickcast-config
    - name: kfp-token  # what multi-user KFP accepts from a pod; kfp.Client sends it
      projected:
        sources:
          - serviceAccountToken:
              path: token
              audience: pipelines.kubeflow.org
              expirationSeconds: 7200
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
{{- end }}
