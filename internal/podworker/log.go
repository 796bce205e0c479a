package podworker

import (
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/types"
)

// podFields are on every log line about a pod: pod (namespace/name, as
// the kubelet's klog.KObj), namespace and uid. A line about one of its
// containers adds container (and containerID).
func podFields(namespace, name string, uid types.UID) []zap.Field {
	return []zap.Field{
		zap.String("pod", types.NamespacedName{Namespace: namespace, Name: name}.String()),
		zap.String("namespace", namespace),
		zap.String("uid", string(uid)),
	}
}
