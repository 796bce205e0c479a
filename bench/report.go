package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/ociimage"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// Machine says what the figures were measured on.
type Machine struct {
	Commit      string  `json:"commit"`
	Dirty       bool    `json:"dirty"`
	Date        string  `json:"date"`
	Cores       int     `json:"cores"`
	Kernel      string  `json:"kernel"`
	CPU         string  `json:"cpu,omitempty"`
	Containerd  string  `json:"containerd"`
	Podman      string  `json:"podman"`
	Minikubelet string  `json:"minikubelet"`
	Seconds     float64 `json:"seconds"`
}

// Results is bench/results.json.
type Results struct {
	Machine
	Scenarios []*Result `json:"scenarios"`
}

func machine(ctx context.Context, bin string, e *env) (Machine, error) {
	m := Machine{Cores: goruntime.NumCPU(), Date: nowUTC()}
	m.Commit = strings.TrimSpace(output("git", "rev-parse", "HEAD"))
	m.Dirty = strings.TrimSpace(output("git", "status", "--porcelain", "--untracked-files=no")) != ""
	m.Kernel = strings.TrimSpace(output("uname", "-r"))
	m.Minikubelet = strings.TrimSpace(output(bin, "version"))
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	v, err := e.rt.Version(ctx, "v1")
	if err != nil {
		return m, err
	}
	m.Containerd = v.RuntimeName + " " + v.RuntimeVersion
	switch {
	case e.podman != nil:
		m.Podman = e.podman.version
	case e.podmanErr != nil:
		m.Podman = "n/a: " + e.podmanErr.Error()
	default:
		m.Podman = "not needed by these scenarios"
	}
	return m, nil
}

func output(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

// checkImages fails when containerd lacks the images the bench runs.
func checkImages(ctx context.Context, rt *runtime.Client) error {
	for _, ref := range []string{ociimage.BusyboxRef, ociimage.PauseRef} {
		st, err := rt.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
		if err != nil {
			return err
		}
		if st.GetImage() == nil {
			return fmt.Errorf("containerd has no image %s (make node-up imports it)", ref)
		}
	}
	return nil
}

// writeResults writes path, keeping the entries of scenarios not run now.
func writeResults(path string, m Machine, results []*Result) error {
	all := Results{Machine: m}
	if data, err := os.ReadFile(path); err == nil {
		var prev Results
		if json.Unmarshal(data, &prev) == nil {
			for _, old := range prev.Scenarios {
				if !containsScenario(results, old.Scenario) {
					all.Scenarios = append(all.Scenarios, old)
				}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	all.Scenarios = append(all.Scenarios, results...)
	sortResults(all.Scenarios)
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	progress("wrote %s", path)
	return nil
}

func containsScenario(results []*Result, name string) bool {
	for _, r := range results {
		if r.Scenario == name {
			return true
		}
	}
	return false
}

// sortResults orders results as the scenarios are listed.
func sortResults(results []*Result) {
	order := map[string]int{}
	for i, s := range scenarios {
		order[s.name] = i
	}
	for i := 1; i < len(results); i++ {
		for j := i; j > 0 && order[results[j].Scenario] < order[results[j-1].Scenario]; j-- {
			results[j], results[j-1] = results[j-1], results[j]
		}
	}
}

// printResult prints one scenario's figures as soon as it is done, for
// the log of a long run.
func printResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\n### %s (%.0f s)\n\n", r.Title, r.Seconds)
	printRows(w, []*Result{r})
}

// printTable prints the whole run as a markdown table, then the notes.
func printTable(w io.Writer, m Machine, results []*Result) {
	dirty := ""
	if m.Dirty {
		dirty = " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "## Benchmark: %s, commit %.12s%s\n\n", m.Date, m.Commit, dirty)
	fmt.Fprintf(w, "%d cores (%s), kernel %s, %s, podman %s; run took %.0f s.\n", m.Cores, m.CPU, m.Kernel, m.Containerd, m.Podman, m.Seconds)
	fmt.Fprintln(w, "Each cell: min / p50 / p99 / max over n repetitions (seconds unless said); the ratio is p50 over the floor's p50.")
	fmt.Fprintln(w)
	printRows(w, results)
}

func printRows(w io.Writer, results []*Result) {
	fmt.Fprintln(w, "| scenario | figure | n | minikubelet | floor (direct CRI) | x floor | podman kube play | podman x floor | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		short := shortName(r)
		if r.Error != "" {
			fmt.Fprintf(w, "| %s | **failed**: %s | | | | | | | |\n", short, cell(r.Error))
		}
		for _, f := range r.Figures {
			n := ""
			if m := f.By[implMinikubelet]; m != nil && m.N > 0 {
				n = fmt.Sprint(m.N)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", short, f.Name+unitSuffix(f.Unit), n,
				statsCell(f.By[implMinikubelet], f.Unit), statsCell(f.By[implFloor], f.Unit), ratio(f.RatioP50),
				statsCell(f.By[implPodman], f.Unit), ratio(f.PodmanRatioP50), f.Target)
		}
	}
	for _, r := range results {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\n- %s: %s", shortName(r), n)
		}
	}
	fmt.Fprintln(w)
}

// shortName is "1 start": the scenario's number in issue 6 and its name.
func shortName(r *Result) string {
	return strings.TrimSuffix(strings.SplitN(r.Title, " ", 2)[0], ".") + " " + r.Scenario
}

func unitSuffix(unit string) string {
	if unit == "s" || unit == "" {
		return ""
	}
	return " (" + unit + ")"
}

func statsCell(s *Stats, unit string) string {
	num := num
	if unit == "count" {
		num = func(v float64) string { return fmt.Sprintf("%.0f", v) }
	}
	switch {
	case s == nil:
		return ""
	case s.N == 0:
		return "n/a: " + cell(s.NA)
	case s.N == 1:
		return num(s.P50) + partial(s)
	}
	return fmt.Sprintf("%s / **%s** / %s / %s", num(s.Min), num(s.P50), num(s.P99), num(s.Max)) + partial(s)
}

func partial(s *Stats) string {
	if s.NA == "" {
		return ""
	}
	return " (" + cell(s.NA) + ")"
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func ratio(r float64) string {
	if r == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", r)
}

// cell keeps a text fit for a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "/")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
