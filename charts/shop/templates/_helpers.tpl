{{/* The labels of every object: the same as examples/shop/k8s. */}}
{{- define "shop.labels" -}}
app.kubernetes.io/name: {{ .Values.name }}
app.kubernetes.io/part-of: shop
{{- end }}

{{- define "shop.selector" -}}
app.kubernetes.io/name: {{ .Values.name }}
{{- end }}
