package staticpods

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	serjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The annotations the kubelet sets on static pods (pkg/kubelet/types).
const (
	// ConfigSourceAnnotationKey names where a pod came from; always FileSource here.
	ConfigSourceAnnotationKey = "kubernetes.io/config.source"
	// ConfigHashAnnotationKey holds the pod's UID: the hash of its manifest,
	// or the manifest's own metadata.uid (as the kubelet's applyDefaults).
	ConfigHashAnnotationKey = "kubernetes.io/config.hash"
	// ConfigFirstSeenAnnotationKey holds when this version of the pod was
	// first seen, in RFC 3339 with nanoseconds.
	ConfigFirstSeenAnnotationKey = "kubernetes.io/config.seen"
	// ConfigMirrorAnnotationKey marks a mirror pod in a cluster; never set here.
	ConfigMirrorAnnotationKey = "kubernetes.io/config.mirror"
	// FileSource is the value of ConfigSourceAnnotationKey for static pods.
	FileSource = "file"
)

var podDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return serjson.NewSerializerWithOptions(serjson.DefaultMetaFactory, scheme, scheme,
		serjson.SerializerOptions{Yaml: true, Strict: true})
}()

// DecodeManifest decodes, defaults, validates and names one manifest file's content (pure, no I/O).
//
// The pod it returns is what the kubelet would run for this file on node
// nodeName: defaulted as the API server defaults, named
// "<metadata.name>-<nodeName>", with spec.nodeName set, the UID the
// manifest's metadata.uid or else a hash of the decoded pod, the node name
// and path, the config.source and config.hash
// annotations and the kubelet's NoExecute toleration. It does not set the
// config.seen annotation, which needs a clock. Every error is a
// *ManifestError naming path.
func DecodeManifest(path string, data []byte, nodeName string) (*v1.Pod, error) {
	return DecodeManifestFor(path, data, nodeName, NodeFeatures{})
}

// DecodeManifestFor is DecodeManifest for a node with the given features:
// what the pod asks of the node's kernel and runtime is checked too.
func DecodeManifestFor(path string, data []byte, nodeName string, node NodeFeatures) (*v1.Pod, error) {
	if nodeName == "" {
		return nil, &ManifestError{Path: path, Err: errors.New("the node name is empty; configure the node name")}
	}
	pod, errs, err := decodePod(data)
	if err != nil {
		return nil, &ManifestError{Path: path, Err: err}
	}
	if len(errs) > 0 {
		return nil, &ManifestError{Path: path, Fields: sortErrors(errs)}
	}

	pod.Status = v1.PodStatus{}
	for _, k := range []string{ConfigSourceAnnotationKey, ConfigHashAnnotationKey, ConfigFirstSeenAnnotationKey} {
		delete(pod.Annotations, k)
	}
	if len(pod.Annotations) == 0 {
		pod.Annotations = nil
	}
	setDefaults(pod)
	if errs := validatePod(pod, nodeName, node); len(errs) > 0 {
		return nil, &ManifestError{Path: path, Fields: sortErrors(errs)}
	}

	// As the kubelet's applyDefaults: a UID the manifest gives is kept,
	// only a pod without one gets the hash.
	if pod.UID == "" {
		uid, err := podUID(pod, nodeName, path)
		if err != nil {
			return nil, &ManifestError{Path: path, Err: err}
		}
		pod.UID = uid
	}
	pod.Name = staticPodName(pod.Name, nodeName)
	pod.Spec.NodeName = nodeName
	if pod.Annotations == nil {
		pod.Annotations = make(map[string]string, 2)
	}
	pod.Annotations[ConfigSourceAnnotationKey] = FileSource
	pod.Annotations[ConfigHashAnnotationKey] = string(pod.UID)
	addStaticPodToleration(pod)
	pod.Status.Phase = v1.PodPending
	return pod, nil
}

// staticPodName is how the kubelet names a static pod: unique among nodes.
func staticPodName(name, nodeName string) string {
	return name + "-" + nodeName
}

// podUID hashes the decoded, defaulted pod (before naming), then the node
// and the file, as the kubelet does for file sources: an edit that changes
// the decoded pod gives a new UID, an unchanged file keeps its UID across
// restarts.
func podUID(pod *v1.Pod, nodeName, path string) (types.UID, error) {
	h := md5.New()
	if err := json.NewEncoder(h).Encode(pod); err != nil {
		return "", fmt.Errorf("hash the pod: %w", err)
	}
	fmt.Fprintf(h, "host:%s", nodeName)
	fmt.Fprintf(h, "file:%s", path)
	return types.UID(hex.EncodeToString(h.Sum(nil))), nil
}

// addStaticPodToleration adds the toleration the kubelet gives every static
// pod so that it is not evicted for NoExecute taints (node problems).
func addStaticPodToleration(pod *v1.Pod) {
	t := v1.Toleration{Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}
	for i, have := range pod.Spec.Tolerations {
		if have.Key == t.Key && have.Operator == t.Operator && have.Value == t.Value && have.Effect == t.Effect {
			pod.Spec.Tolerations[i] = t
			return
		}
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, t)
}

// decodePod turns one file's bytes into a v1.Pod with strict field checking.
// Field problems come back as errs, anything else as err.
func decodePod(data []byte) (pod *v1.Pod, errs field.ErrorList, err error) {
	if len(data) > maxManifestSize {
		return nil, nil, fmt.Errorf("the file is larger than %d bytes", maxManifestSize)
	}
	doc, err := singleDocument(data)
	if err != nil {
		return nil, nil, err
	}
	jsonDoc, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(jsonDoc, &top); err != nil {
		return nil, nil, errors.New("the manifest is not a YAML or JSON object; it must be one Pod")
	}
	if errs := checkTypeMeta(jsonDoc); len(errs) > 0 {
		return nil, errs, nil
	}
	// Quantities are checked first: the decoder does not say which one is
	// bad, and it takes minutes over some tiny ones ("1e-100000000").
	if errs := checkQuantities(jsonDoc); len(errs) > 0 {
		return nil, errs, nil
	}
	obj, _, err := podDecoder.Decode(doc, nil, &v1.Pod{})
	if err != nil {
		if strict, ok := runtime.AsStrictDecodingError(err); ok {
			msgs := make([]string, 0, len(strict.Errors()))
			for _, e := range strict.Errors() {
				msgs = append(msgs, e.Error())
			}
			return nil, nil, fmt.Errorf("strict decoding error: %s", strings.Join(msgs, ", "))
		}
		return nil, nil, explainDecodeError(err)
	}
	p, ok := obj.(*v1.Pod)
	if !ok {
		return nil, nil, fmt.Errorf("decoded a %T, not a Pod", obj)
	}
	p.TypeMeta.Kind = "Pod"
	p.TypeMeta.APIVersion = "v1"
	return p, nil, nil
}

// singleDocument returns the only non-empty YAML document in data. A file
// that is empty or holds only comments is an error (it is often a file
// caught half-written), and so is a file with two pods in it.
func singleDocument(data []byte) ([]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
			continue
		}
		docs = append(docs, doc)
	}
	switch len(docs) {
	case 0:
		return nil, errors.New("the file is empty; a manifest holds one Pod")
	case 1:
		return docs[0], nil
	default:
		return nil, fmt.Errorf("the file holds %d YAML documents; a static pod manifest holds exactly one Pod, put each pod in its own file", len(docs))
	}
}

// checkTypeMeta requires "apiVersion: v1" and "kind: Pod", with messages in
// the API server's field style.
func checkTypeMeta(jsonDoc []byte) field.ErrorList {
	var tm struct {
		APIVersion any `json:"apiVersion"`
		Kind       any `json:"kind"`
	}
	if err := json.Unmarshal(jsonDoc, &tm); err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("kind"), err)}
	}
	var errs field.ErrorList
	switch k := tm.Kind.(type) {
	case nil:
		errs = append(errs, field.Required(field.NewPath("kind"), `a static pod manifest must have "kind: Pod"`))
	case string:
		if k == "" {
			errs = append(errs, field.Required(field.NewPath("kind"), `a static pod manifest must have "kind: Pod"`))
		} else if k != "Pod" {
			errs = append(errs, field.NotSupported(field.NewPath("kind"), k, []string{"Pod"}))
		}
	default:
		errs = append(errs, field.Invalid(field.NewPath("kind"), fmt.Sprint(k), `must be the string "Pod"`))
	}
	switch v := tm.APIVersion.(type) {
	case nil:
		errs = append(errs, field.Required(field.NewPath("apiVersion"), `a static pod manifest must have "apiVersion: v1"`))
	case string:
		if v == "" {
			errs = append(errs, field.Required(field.NewPath("apiVersion"), `a static pod manifest must have "apiVersion: v1"`))
		} else if v != "v1" {
			errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), v, []string{"v1"}))
		}
	default:
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), fmt.Sprint(v), `must be the string "v1"`))
	}
	return errs
}

// explainDecodeError puts the JSON decoder's type errors in the field
// style ("spec.containers.ports.containerPort: Invalid value: string: must
// be of type int32"); the decoder knows the field but not the list indexes.
// apimachinery's decoder (sigs.k8s.io/json) returns encoding/json's
// *UnmarshalTypeError.
func explainDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || typeErr.Field == "" || typeErr.Type == nil {
		return fmt.Errorf("cannot decode the pod: %w", err)
	}
	return fmt.Errorf("%s: Invalid value: %s: must be of type %s", manifestFieldPath(typeErr.Field), typeErr.Value, typeErr.Type)
}

// manifestFieldPath turns the decoder's path to a field into the path in the
// manifest: embedded Go structs (ProbeHandler, VolumeSource, ...) show up
// capitalised in the decoder's path but are not fields in YAML.
func manifestFieldPath(goPath string) string {
	var parts []string
	for _, p := range strings.Split(goPath, ".") {
		if p == "" || unicode.IsUpper(rune(p[0])) {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortErrors orders field errors by message so that the same file always
// gives the same error text (validation walks maps).
func sortErrors(errs field.ErrorList) field.ErrorList {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}
