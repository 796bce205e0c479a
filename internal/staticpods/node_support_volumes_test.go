package staticpods

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeManifest_RefusesVolumeTypesThisNodeCannotMount(t *testing.T) {
	vol := func(src string) string { return podYAML(oneContainer + "  volumes:\n  - name: v\n" + src) }
	tests := []struct {
		name, manifest string
		// want is the one error the manifest must give, field and all.
		want string
	}{
		{"nfs", vol("    nfs:\n      server: 10.0.0.1\n      path: /export\n"),
			"spec.volumes[0].nfs: Forbidden: this node has no nfs volume plugin: mount the storage on the node and use a hostPath volume instead"},
		{"iscsi", vol("    iscsi:\n      targetPortal: 10.0.0.1:3260\n      iqn: iqn.2001-04.com.example:storage\n      lun: 0\n"),
			"spec.volumes[0].iscsi: Forbidden: this node has no iscsi volume plugin"},
		{"fc", vol("    fc:\n      targetWWNs: [\"500a0982991b8dc5\"]\n      lun: 2\n"), "spec.volumes[0].fc: Forbidden: this node has no fc volume plugin"},
		{"cephfs", vol("    cephfs:\n      monitors: [\"10.0.0.1:6789\"]\n"), "spec.volumes[0].cephfs: Forbidden: this node has no cephfs volume plugin"},
		{"cephfs with a secret is refused once, for the secret", vol("    cephfs:\n      monitors: [\"10.0.0.1:6789\"]\n      secretRef:\n        name: ceph\n"),
			"spec.volumes[0].cephfs.secretRef: Forbidden: static pods may not reference secrets"},
		{"rbd", vol("    rbd:\n      monitors: [\"10.0.0.1:6789\"]\n      image: disk\n"), "spec.volumes[0].rbd: Forbidden: this node has no rbd volume plugin"},
		{"awsElasticBlockStore", vol("    awsElasticBlockStore:\n      volumeID: vol-1\n"), "spec.volumes[0].awsElasticBlockStore: Forbidden: this node has no awsElasticBlockStore volume plugin"},
		{"flexVolume", vol("    flexVolume:\n      driver: example.com/lvm\n"), "spec.volumes[0].flexVolume: Forbidden: this node has no flexVolume volume plugin"},
		{"gitRepo", vol("    gitRepo:\n      repository: https://example.com/repo.git\n"),
			"spec.volumes[0].gitRepo: Forbidden: the gitRepo volume type is deprecated and the kubelet no longer enables it (GitRepoVolumeDriver); clone the repository into an emptyDir volume from an init container instead"},
		{"image", vol("    image:\n      reference: busybox:1.36\n"),
			"spec.volumes[0].image: Forbidden: image volumes need a container runtime that mounts images (containerd 2.1 or later); this node runs containerd 1.6"},
		{"downwardAPI resource of an unknown container", vol("    downwardAPI:\n      items:\n      - path: cpu\n        resourceFieldRef:\n          containerName: nope\n          resource: limits.cpu\n"),
			`spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: Not found: "nope": no container or init container of the pod has this name`},
		{"projected resource of an unknown container", vol("    projected:\n      sources:\n      - downwardAPI:\n          items:\n          - path: mem\n            resourceFieldRef:\n              containerName: nope\n              resource: limits.memory\n"),
			`spec.volumes[0].projected.sources[0].downwardAPI.items[0].resourceFieldRef.containerName: Not found: "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeManifest(testPath, []byte(tt.manifest), testNode)
			var merr *ManifestError
			if !errors.As(err, &merr) {
				t.Fatalf("error %v, want a ManifestError", err)
			}
			if len(merr.Fields) != 1 || !strings.Contains(merr.Fields[0].Error(), tt.want) {
				t.Fatalf("errors %v, want exactly one containing\n  %s", merr.Fields, tt.want)
			}
		})
	}
}

func TestDecodeManifest_AcceptsDownwardAPIResourcesOfInitContainers(t *testing.T) {
	mustDecode(t, podYAML(`  initContainers:
  - name: setup
    image: busybox:1.36
`+oneContainer+`  volumes:
  - name: v
    downwardAPI:
      items:
      - path: cpu
        resourceFieldRef:
          containerName: setup
          resource: limits.cpu
`))
}
