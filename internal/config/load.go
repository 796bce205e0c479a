package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The two documents of a configuration file.
const (
	kubeletAPIVersion     = "kubelet.config.k8s.io/v1beta1"
	kubeletKind           = "KubeletConfiguration"
	minikubeletAPIVersion = "minikubelet.io/v1alpha1"
	minikubeletKind       = "MinikubeletConfiguration"
)

// Warning is something in a configuration file the daemon takes but its
// user must hear of, once, at start.
type Warning struct {
	File string
	// Field is the field's path ("logging.options"), empty for the file
	// as a whole.
	Field   string
	Message string
}

func (w Warning) String() string {
	if w.Field == "" {
		return fmt.Sprintf("config %s: %s", w.File, w.Message)
	}
	return fmt.Sprintf("config %s: %s: %s", w.File, w.Field, w.Message)
}

// Load reads a configuration file: a KubeletConfiguration document and a
// MinikubeletConfiguration document for what the kubelet has no field for
// (either may be missing), or the deprecated form without apiVersion.
// Decoding is strict: an unknown or duplicate field is an error naming the
// file and the field's path. A kubelet field the daemon does not act on is
// taken and reported in the warnings, as is the deprecated form.
func Load(path string) (Config, []Warning, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, nil, fmt.Errorf("read config: %w", err)
	}
	docs, err := sortDocuments(data)
	if err != nil {
		return c, nil, fmt.Errorf("config %s: %w", path, err)
	}
	if docs.legacy != nil {
		if err := decodeStrict(docs.legacy, &c); err != nil {
			return c, nil, fmt.Errorf("config %s: %w", path, err)
		}
		var fields map[string]any
		if json.Unmarshal(docs.legacy, &fields) == nil {
			c.portSet = portGiven(fields)
		}
		return c, []Warning{{File: path, Message: legacyMessage()}}, nil
	}
	merged := map[string]any{}
	var (
		warnings []Warning
		errs     []error
	)
	if docs.kubelet != nil {
		f := keepKubelet(docs.kubelet, kubeletSchema, configSchema, "")
		mergeInto(merged, f.kept)
		for _, p := range f.ignoredPaths {
			warnings = append(warnings, Warning{File: path, Field: p, Message: "a KubeletConfiguration field minikubelet does not act on: ignored"})
		}
		// What the daemon ignores is still checked as the kubelet would.
		if err := decodeUpstream(f.ignored); err != nil {
			f.errs = append(f.errs, err)
		}
		for _, e := range f.errs {
			errs = append(errs, fmt.Errorf("%s: %w", kubeletKind, e))
		}
	}
	if docs.own != nil {
		kept, es := keepOwn(docs.own, kubeletSchema, configSchema, "")
		mergeInto(merged, kept)
		for _, e := range es {
			errs = append(errs, fmt.Errorf("%s: %w", minikubeletKind, e))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, decodeMerged(merged, &c))
	}
	if err := errors.Join(errs...); err != nil {
		return c, nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.portSet = portGiven(merged)
	return c, warnings, nil
}

// documents are the documents of a configuration file, by kind, their
// apiVersion and kind taken out.
type documents struct {
	kubelet, own map[string]any
	// legacy is the one document of a file in the deprecated form.
	legacy []byte
}

func sortDocuments(data []byte) (documents, error) {
	var d documents
	docs, err := splitDocuments(data)
	if err != nil {
		return d, err
	}
	for i, doc := range docs {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			return d, fmt.Errorf("document %d: not a mapping of fields: %w", i+1, err)
		}
		apiVersion, _ := m["apiVersion"].(string)
		kind, _ := m["kind"].(string)
		delete(m, "apiVersion")
		delete(m, "kind")
		isKubelet := apiVersion == kubeletAPIVersion && kind == kubeletKind
		isOwn := apiVersion == minikubeletAPIVersion && kind == minikubeletKind
		switch {
		case isKubelet && d.kubelet == nil:
			d.kubelet = m
		case isOwn && d.own == nil:
			d.own = m
		case isKubelet || isOwn:
			return d, fmt.Errorf("document %d: a second %s", i+1, kind)
		case apiVersion == "" && kind == "" && len(docs) == 1:
			d.legacy = doc
		case apiVersion == "" && kind == "":
			return d, fmt.Errorf("document %d has no apiVersion and kind: with several documents, each is a %s (apiVersion %s) or a %s (apiVersion %s)",
				i+1, kubeletKind, kubeletAPIVersion, minikubeletKind, minikubeletAPIVersion)
		default:
			return d, fmt.Errorf("document %d: unknown apiVersion %q and kind %q: want %s %s or %s %s",
				i+1, apiVersion, kind, kubeletAPIVersion, kubeletKind, minikubeletAPIVersion, minikubeletKind)
		}
	}
	return d, nil
}

// decodeMerged decodes the fields the documents' walks kept into c.
func decodeMerged(merged map[string]any, c *Config) error {
	doc, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	return decodeStrict(doc, c)
}

// legacyMessage is the deprecation warning of a file without apiVersion.
func legacyMessage() string {
	return "a configuration without apiVersion is deprecated and will not be read by the next release: " +
		"write the kubelet's fields in a document with apiVersion: " + kubeletAPIVersion + " and kind: " + kubeletKind +
		", and " + strings.Join(ownFields(configSchema, kubeletSchema, ""), ", ") + " in a second document (after ---) with apiVersion: " +
		minikubeletAPIVersion + " and kind: " + minikubeletKind + "; `minikubelet run --config FILE --print-config` prints this file in that form"
}

// ownFields are the paths of the fields of own that kubelet does not have.
func ownFields(own, kubelet schema, prefix string) []string {
	var paths []string
	for k, cs := range own {
		ks, shared := kubelet[k]
		switch {
		case !shared:
			paths = append(paths, prefix+k)
		case cs != nil && ks != nil:
			paths = append(paths, ownFields(cs, ks, prefix+k+".")...)
		}
	}
	sort.Strings(paths)
	return paths
}

// splitDocuments turns a YAML (or JSON) file into the JSON of each of its
// non-empty documents; a key given twice in a mapping is an error.
func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		chunk, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		doc, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("document %d: not valid YAML: %w", len(docs)+1, err)
		}
		if t := bytes.TrimSpace(doc); len(t) == 0 || string(t) == "null" {
			continue
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// decodeStrict decodes doc into v as the kubelet's strict decoding does:
// field names matched exactly ("StaticPodPath" is an unknown field), an
// unknown or duplicate field is an error.
func decodeStrict(doc []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(doc, v, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// kubeletFields is a KubeletConfiguration document split by whether the
// daemon acts on a field.
type kubeletFields struct {
	// kept are the fields the daemon acts on (those of Config).
	kept map[string]any
	// ignored are the others, and ignoredPaths their paths.
	ignored      map[string]any
	ignoredPaths []string
	// errs are the fields the kubelet does not have.
	errs []error
}

// keepKubelet splits the fields of a KubeletConfiguration document m.
func keepKubelet(m map[string]any, kubelet, own schema, prefix string) kubeletFields {
	f := kubeletFields{kept: map[string]any{}, ignored: map[string]any{}}
	for _, key := range sortedKeys(m) {
		path := prefix + key
		ks, inKubelet := kubelet[key]
		cs, inOwn := own[key]
		sub, isMap := m[key].(map[string]any)
		switch {
		case !inKubelet && inOwn:
			f.errs = append(f.errs, fmt.Errorf("unknown field %q: a %s field, not a kubelet one: set it in the %s document (apiVersion %s)", path, minikubeletKind, minikubeletKind, minikubeletAPIVersion))
		case !inKubelet:
			f.errs = append(f.errs, fmt.Errorf("unknown field %q", path))
		case !inOwn:
			f.ignored[key] = m[key]
			f.ignoredPaths = append(f.ignoredPaths, path)
		case ks != nil && cs != nil && isMap:
			nested := keepKubelet(sub, ks, cs, path+".")
			if len(nested.kept) > 0 {
				f.kept[key] = nested.kept
			}
			if len(nested.ignored) > 0 {
				f.ignored[key] = nested.ignored
			}
			f.ignoredPaths = append(f.ignoredPaths, nested.ignoredPaths...)
			f.errs = append(f.errs, nested.errs...)
		default:
			f.kept[key] = m[key]
		}
	}
	return f
}

// keepOwn returns the fields of a MinikubeletConfiguration document: those
// of Config the kubelet has no field for.
func keepOwn(m map[string]any, kubelet, own schema, prefix string) (map[string]any, []error) {
	kept := map[string]any{}
	var errs []error
	for _, key := range sortedKeys(m) {
		path := prefix + key
		ks, inKubelet := kubelet[key]
		cs, inOwn := own[key]
		sub, isMap := m[key].(map[string]any)
		switch {
		case !inOwn:
			errs = append(errs, fmt.Errorf("unknown field %q", path))
		case inKubelet && ks != nil && cs != nil && isMap:
			k, es := keepOwn(sub, ks, cs, path+".")
			if len(k) > 0 {
				kept[key] = k
			}
			errs = append(errs, es...)
		case inKubelet:
			errs = append(errs, fmt.Errorf("field %q is a kubelet field: set it in the %s document (apiVersion %s)", path, kubeletKind, kubeletAPIVersion))
		default:
			kept[key] = m[key]
		}
	}
	return kept, errs
}

// mergeInto adds src's fields to dst, merging the mappings both have.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if d, ok := dst[k].(map[string]any); ok {
			if s, ok := v.(map[string]any); ok {
				mergeInto(d, s)
				continue
			}
		}
		dst[k] = v
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
