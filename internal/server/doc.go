// Package server is the daemon's local HTTP API: GET /healthz, GET /pods
// (a v1.PodList with live status, as the kubelet's /pods), and
// GET /metrics, served on a unix socket readable by root only. Pods come
// from the status store; nothing here changes a pod.
package server
