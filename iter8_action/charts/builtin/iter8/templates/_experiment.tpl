{{- /*
The experiment: Iter8's convention is a template named "experiment".
Each entry of .Values.tasks renders one task (two for http/grpc with a warm-up),
from the values under the task's name.
*/ -}}
{{- define "experiment" -}}
{{- if not .Values.tasks }}
{{- fail "values: tasks is empty: name the tasks to run, e.g. --set \"tasks={http,assess}\"" }}
{{- end }}
{{- if and .Values.runner (ne .Values.runner "none") }}
{{- fail (printf "values: runner: %s runs Iter8 inside Kubernetes; iter8-py runs the experiment here (runner: none); schedule the CI pipeline instead" .Values.runner) }}
{{- end }}
{{- with .Values.metadata }}
metadata:
{{ toYaml . | indent 2 }}
{{- end }}
spec:
{{- range $task := .Values.tasks }}
{{- if or (eq $task "http") (eq $task "grpc") }}
{{- include "iter8.load" (dict "task" $task "values" (index $.Values $task)) }}
{{- else if eq $task "assess" }}
{{- include "iter8.assess" $.Values.assess }}
{{- else if eq $task "ready" }}
{{- include "iter8.ready" $.Values.ready }}
{{- else if eq $task "slack" }}
{{- include "iter8.slack" $.Values.slack }}
{{- else if eq $task "github" }}
{{- include "iter8.github" $.Values.github }}
{{- else if eq $task "run" }}
{{- if not $.Values.run }}
{{- fail "values: run: the run task needs a script, e.g. --set run='echo hello'" }}
{{- end }}
{{ list (dict "run" $.Values.run) | toYaml }}
{{- else if eq $task "abnmetrics" }}
{{- fail "values: tasks: abnmetrics reads Iter8's A/B/n service in Kubernetes; it is not available here" }}
{{- else }}
{{- include "iter8.task" (dict "task" $task "values" (index $.Values $task)) }}
{{- end }}
{{- end }}
{{ end }}
