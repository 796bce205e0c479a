package staticpods

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeManifest: whatever a file holds, decoding never panics, every
// error is a *ManifestError naming the file, and every pod is named and
// has a UID.
func FuzzDecodeManifest(f *testing.F) {
	f.Add([]byte(podYAML(oneContainer)))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"},"spec":{"containers":[{"name":"app","image":"busybox:1"}]}}`))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("- a\n- b\n"))
	for _, tc := range badManifests {
		f.Add([]byte(tc.manifest))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pod, err := DecodeManifest(testPath, data, testNode)
		if err != nil {
			var merr *ManifestError
			if !errors.As(err, &merr) || !strings.HasPrefix(err.Error(), testPath+": ") {
				t.Fatalf("error %q (%T) does not name the file", err, err)
			}
			return
		}
		if pod.UID == "" || !strings.HasSuffix(pod.Name, "-"+testNode) || pod.Spec.NodeName != testNode {
			t.Fatalf("decoded pod not named or bound: %+v", pod.ObjectMeta)
		}
	})
}
