{{- /*
Iter8 v0.11-v0.13's load-test-http: one http task with the values at the top level,
then an assess task with the SLOs (upper limits) when there are any.
*/ -}}
{{- define "experiment" -}}
{{- $with := mustDeepCopy .Values }}
{{- $_ := unset $with "SLOs" }}
{{- $_ := unset $with "iter8lib" }}
{{- if not (or $with.url $with.endpoints $with.versions) }}
{{- fail "values: url is required (or endpoints, or versions), e.g. --set url=http://127.0.0.1:8080/get" }}
{{- end }}
spec:
- task: http
  with:
{{ toYaml $with | indent 4 }}
{{- if .Values.SLOs }}
- task: assess
  with:
    SLOs:
      upper:
      {{- range $metric, $limit := .Values.SLOs }}
      - metric: {{ $metric }}
        limit: {{ $limit }}
      {{- end }}
{{- end }}
{{ end }}
