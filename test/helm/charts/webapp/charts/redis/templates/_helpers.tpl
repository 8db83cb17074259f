{{- define "redis.fullname" -}}
{{- include "common.names.fullname" . -}}
{{- end -}}

{{/* The same name as a parent helper: the parent chart's definition wins (it is parsed last). */}}
{{- define "webapp.name" -}}
redis-would-win-if-parsed-last
{{- end -}}
