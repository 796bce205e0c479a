package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Print renders c as a configuration file Load reads back: a
// KubeletConfiguration document with the kubelet's fields, then a
// MinikubeletConfiguration document with the rest.
func (c Config) Print() ([]byte, error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("print the configuration: %w", err)
	}
	var all map[string]any
	if err := json.Unmarshal(doc, &all); err != nil {
		return nil, fmt.Errorf("print the configuration: %w", err)
	}
	kubelet, own := splitBySchema(all, kubeletSchema)
	var out bytes.Buffer
	for i, part := range []struct {
		apiVersion, kind string
		fields           map[string]any
	}{{kubeletAPIVersion, kubeletKind, kubelet}, {minikubeletAPIVersion, minikubeletKind, own}} {
		if i > 0 {
			out.WriteString("---\n")
		}
		fmt.Fprintf(&out, "apiVersion: %s\nkind: %s\n", part.apiVersion, part.kind)
		if len(part.fields) == 0 {
			continue
		}
		y, err := yaml.Marshal(part.fields)
		if err != nil {
			return nil, fmt.Errorf("print the configuration: %w", err)
		}
		out.Write(y)
	}
	return out.Bytes(), nil
}

// splitBySchema splits m into the fields s has and the others, down into
// the mappings both have.
func splitBySchema(m map[string]any, s schema) (in, out map[string]any) {
	in, out = map[string]any{}, map[string]any{}
	for k, v := range m {
		sub, isMap := v.(map[string]any)
		child, has := s[k]
		switch {
		case !has:
			out[k] = v
		case child != nil && isMap:
			i, o := splitBySchema(sub, child)
			if len(i) > 0 {
				in[k] = i
			}
			if len(o) > 0 {
				out[k] = o
			}
		default:
			in[k] = v
		}
	}
	return in, out
}
