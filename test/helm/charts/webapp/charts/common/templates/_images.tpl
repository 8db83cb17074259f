{{/*
The image reference from a root map { registry, repository, tag, digest } with global.imageRegistry winning.
Usage: {{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global "chart" .Chart) }}
*/}}
{{- define "common.images.image" -}}
{{- $registry := .imageRoot.registry -}}
{{- if and .global .global.imageRegistry -}}
{{- $registry = .global.imageRegistry -}}
{{- end -}}
{{- $tag := .imageRoot.tag | default (and .chart .chart.AppVersion) | default "latest" | toString -}}
{{- $separator := ":" -}}
{{- if .imageRoot.digest -}}
{{- $separator = "@" -}}
{{- $tag = .imageRoot.digest | toString -}}
{{- end -}}
{{- if $registry -}}
{{- printf "%s/%s%s%s" $registry .imageRoot.repository $separator $tag -}}
{{- else -}}
{{- printf "%s%s%s" .imageRoot.repository $separator $tag -}}
{{- end -}}
{{- end -}}
