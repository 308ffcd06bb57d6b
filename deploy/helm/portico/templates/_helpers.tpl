{{/*
The four services, in a fixed order, and what each of them needs. This is the
application's architecture, not a setting, so it lives here and not in values.
*/}}
{{- define "portico.serviceNames" -}}
gateway identity access notifications
{{- end -}}

{{- define "portico.needsDatabase" -}}
{{- if has . (list "identity" "access" "notifications") }}true{{ end -}}
{{- end -}}

{{- define "portico.needsSmtp" -}}
{{- if eq . "notifications" }}true{{ end -}}
{{- end -}}

{{- define "portico.needsSigningKey" -}}
{{- if eq . "identity" }}true{{ end -}}
{{- end -}}

{{/* Identity, when a Secret with the key that seals authenticator secrets is named (mfa.secretKeySecret). Called with (list name root). */}}
{{- define "portico.needsMfaKey" -}}
{{- if and (eq (index . 0) "identity") (index . 1).Values.mfa.secretKeySecret }}true{{ end -}}
{{- end -}}

{{- define "portico.needsCatalog" -}}
{{- if eq . "access" }}true{{ end -}}
{{- end -}}

{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's objects: <fullname>-<component>. */}}
{{- define "portico.componentName" -}}
{{- printf "%s-%s" (include "portico.fullname" .root | trunc 48 | trimSuffix "-") .component }}
{{- end }}

{{- define "portico.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select every pod of this release. */}}
{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "portico.labels" -}}
helm.sh/chart: {{ include "portico.chart" . }}
{{ include "portico.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portico
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "portico.componentSelectorLabels" -}}
{{ include "portico.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "portico.componentLabels" -}}
{{ include "portico.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "portico.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "portico.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "portico.configMapName" -}}
{{- printf "%s-config" (include "portico.fullname" .) }}
{{- end }}

{{- define "portico.catalogConfigMapName" -}}
{{- if .Values.accessCatalog.existingConfigMap }}
{{- .Values.accessCatalog.existingConfigMap }}
{{- else }}
{{- printf "%s-access-catalog" (include "portico.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Restricted container security context (Pod Security Standard "restricted").
Fixed on purpose: not a value.
*/}}
{{- define "portico.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "portico.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.podSecurityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext.fsGroup }}
fsGroup: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The NATS credentials of one service, as JSON: its own Secret when
services.<name>.nats names one (its own NATS user, least privilege:
docs/deploy.md), else the shared nats.* one. Keys default to the shared keys.
Call with (dict "root" $ "component" "gateway").
*/}}
{{- define "portico.natsAuth" -}}
{{- $shared := .root.Values.nats -}}
{{- $own := (index .root.Values.services .component).nats | default dict -}}
{{- $ownUser := $own.userPasswordSecret | default dict -}}
{{- $ownCreds := $own.credsSecret | default dict -}}
{{- if or $ownUser.name $ownCreds.name -}}
{{- $user := dict "name" ($ownUser.name | default "") "userKey" ($ownUser.userKey | default $shared.userPasswordSecret.userKey) "passwordKey" ($ownUser.passwordKey | default $shared.userPasswordSecret.passwordKey) -}}
{{- $creds := dict "name" ($ownCreds.name | default "") "key" ($ownCreds.key | default $shared.credsSecret.key) -}}
{{- dict "userPasswordSecret" $user "credsSecret" $creds | toJson -}}
{{- else -}}
{{- dict "userPasswordSecret" $shared.userPasswordSecret "credsSecret" $shared.credsSecret | toJson -}}
{{- end -}}
{{- end }}

{{/*
NATS credentials for a container's env; call with the dict of portico.natsAuth.
*/}}
{{- define "portico.natsEnv" -}}
{{- with .userPasswordSecret }}
{{- if .name }}
- name: NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .userKey }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- if .credsSecret.name }}
- name: NATS_CREDS_FILE
  value: /etc/portico/nats/{{ .credsSecret.key }}
{{- end }}
{{- end }}

{{/* One NetworkPolicy egress rule from values.networkPolicy.egress.<name>. */}}
{{- define "portico.egressRule" -}}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    {{- toYaml .ports | nindent 4 }}
{{- end }}

{{/* The files of the previous keys of authenticator secrets (mfa.previousSecretKeyKeys), separated by commas: MFA_PREVIOUS_SECRET_KEY_FILES. */}}
{{- define "portico.mfaPreviousKeyFiles" -}}
{{- range $index, $key := .Values.mfa.previousSecretKeyKeys }}{{ if $index }},{{ end }}/etc/portico/mfa/{{ $key }}{{ end -}}
{{- end }}
