package runtime

import "testing"

func TestOperationType_KubeletNames(t *testing.T) {
	for method, want := range map[string]string{
		"/runtime.v1.RuntimeService/CreateContainer":    "create_container",
		"/runtime.v1.RuntimeService/ListContainers":     "list_containers",
		"/runtime.v1.RuntimeService/RunPodSandbox":      "run_podsandbox",
		"/runtime.v1.RuntimeService/ListPodSandbox":     "list_podsandbox",
		"/runtime.v1.RuntimeService/PodSandboxStatus":   "podsandbox_status",
		"/runtime.v1.RuntimeService/ExecSync":           "exec_sync",
		"/runtime.v1.RuntimeService/ReopenContainerLog": "reopen_container_log",
		"/runtime.v1.RuntimeService/Version":            "version",
		"/runtime.v1.ImageService/ImageFsInfo":          "image_fs_info",
		"/runtime.v1.ImageService/PullImage":            "pull_image",
		"/runtime.v1.ImageService/RemoveImage":          "remove_image",
	} {
		if got := operationType(method); got != want {
			t.Errorf("operationType(%q) = %q, want %q", method, got, want)
		}
	}
}
