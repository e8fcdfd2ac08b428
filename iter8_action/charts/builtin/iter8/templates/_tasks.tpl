{{- /*
One template per task. Each takes the task's values and renders list entries of
`spec`. Keys that only existed for Iter8 inside Kubernetes fail with a message.
*/ -}}

{{- /* A task whose values are its `with:`, with `if` lifted to the task. */ -}}
{{- define "iter8.task" -}}
{{- $with := mustDeepCopy (.values | default dict) }}
{{- $if := $with.if }}
{{- $_ := unset $with "if" }}
- task: {{ .task }}
{{- if $if }}
  if: {{ $if | quote }}
{{- end }}
{{- if $with }}
  with:
{{ toYaml $with | indent 4 }}
{{- else }}
  with: {}
{{- end }}
{{- end }}

{{- /* http and grpc: Iter8's warmupNumRequests / warmupDuration add a warm-up task. */ -}}
{{- define "iter8.load" -}}
{{- $vals := .values | default dict }}
{{- if eq .task "http" }}
{{- if not (or $vals.url $vals.endpoints $vals.versions) }}
{{- fail "values: http.url is required (or http.endpoints, or http.versions), e.g. --set http.url=http://127.0.0.1:8080/get" }}
{{- end }}
{{- else if not (or $vals.host $vals.endpoints $vals.versions) }}
{{- fail "values: grpc.host is required (or grpc.endpoints, or grpc.versions), e.g. --set grpc.host=127.0.0.1:50051" }}
{{- end }}
{{- if or $vals.warmupNumRequests $vals.warmupDuration }}
{{- $warm := mustDeepCopy $vals }}
{{- if $vals.warmupNumRequests }}
{{- $_ := set $warm (ternary "numRequests" "total" (eq .task "http")) $vals.warmupNumRequests }}
{{- $_ := unset $warm "duration" }}
{{- else }}
{{- $_ := set $warm "duration" $vals.warmupDuration }}
{{- $_ := unset $warm (ternary "numRequests" "total" (eq .task "http")) }}
{{- end }}
{{- $_ := unset $warm "warmupNumRequests" }}
{{- $_ := unset $warm "warmupDuration" }}
{{- $_ := set $warm "warmup" true }}
# warm-up: its results are discarded
{{- include "iter8.task" (dict "task" .task "values" $warm) }}
{{- end }}
{{- $main := mustDeepCopy $vals }}
{{- $_ := unset $main "warmupNumRequests" }}
{{- $_ := unset $main "warmupDuration" }}
{{- include "iter8.task" (dict "task" .task "values" $main) }}
{{- end }}

{{- /* assess: SLOs.upper.<metric>: <limit> becomes [{metric, limit}], sorted by metric;
a map instead of a limit carries relative limits (maxIncreasePercent, ...). */ -}}
{{- define "iter8.assess" -}}
{{- if not . }}
{{- fail "values: assess: give SLOs or rewards, e.g. --set assess.SLOs.upper.http/latency-mean=50" }}
{{- end }}
{{- $with := mustDeepCopy . }}
{{- $_ := unset $with "SLOs" }}
{{- if .SLOs }}
{{- $slos := dict }}
{{- range $kind, $limits := .SLOs }}
{{- $entries := list }}
{{- range $metric, $limit := $limits }}
{{- if kindIs "map" $limit }}
{{- $entries = append $entries (merge (dict "metric" $metric) $limit) }}
{{- else }}
{{- $entries = append $entries (dict "metric" $metric "limit" $limit) }}
{{- end }}
{{- end }}
{{- if $entries }}
{{- $_ := set $slos $kind $entries }}
{{- end }}
{{- end }}
{{- $_ := set $with "SLOs" $slos }}
{{- end }}
{{- include "iter8.task" (dict "task" "assess" "values" $with) }}
{{- end }}

{{- /* ready: Iter8 waited for Kubernetes objects; here a URL or a TCP port. */ -}}
{{- define "iter8.ready" -}}
{{- $vals := . | default dict }}
{{- range $key := list "service" "deploy" "ksvc" "isvc" "namespace" }}
{{- if hasKey $vals $key }}
{{- fail (printf "values: ready.%s: Iter8 waited for Kubernetes objects; iter8-py waits for an HTTP URL or a TCP port: set ready.url (e.g. http://my-app:8080/health) or ready.host and ready.port" $key) }}
{{- end }}
{{- end }}
{{- if not (or $vals.url $vals.host) }}
{{- fail "values: ready.url is required (or ready.host and ready.port)" }}
{{- end }}
{{- include "iter8.task" (dict "task" "ready" "values" $vals) }}
{{- end }}

{{- /* slack: Iter8's payloadTemplateURL makes it a notify task with that template. */ -}}
{{- define "iter8.slack" -}}
{{- if not (and . (or .url .urlEnv)) }}
{{- fail "values: slack.url is required (or slack.urlEnv, the environment variable holding it)" }}
{{- end }}
{{- if .payloadTemplateURL }}
{{- $with := mustDeepCopy . }}
{{- $_ := set $with "method" (.method | default "POST") }}
{{- include "iter8.task" (dict "task" "notify" "values" $with) }}
{{- else }}
{{- include "iter8.task" (dict "task" "slack" "values" .) }}
{{- end }}
{{- end }}

{{- /* github: a repository dispatch; the token comes from the environment. */ -}}
{{- define "iter8.github" -}}
{{- if hasKey (. | default dict) "token" }}
{{- fail "values: github.token: a token written into experiment.yaml would leak; put it in an environment variable and set github.tokenEnv to its name (default GITHUB_TOKEN)" }}
{{- end }}
{{- if not (and . .owner .repo) }}
{{- fail "values: github.owner and github.repo are required" }}
{{- end }}
{{- include "iter8.task" (dict "task" "github" "values" .) }}
{{- end }}
