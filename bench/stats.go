package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Who is measured: the daemon, the direct CRI client (the floor) or the
// peer a user would pick instead.
const (
	implMinikubelet = "minikubelet"
	implFloor       = "floor"
	implPodman      = "podman"
)

// Stats summarises the samples of one figure for one implementation. When
// NA is set there are no samples and NA says why.
type Stats struct {
	N   int     `json:"n"`
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	NA  string  `json:"na,omitempty"`
	// Samples are the raw values, in the order they were taken.
	Samples []float64 `json:"samples,omitempty"`
}

// Figure is one measured quantity of a scenario, for each implementation
// that was measured, side by side.
type Figure struct {
	Name string `json:"name"`
	// Unit is "s", "MB", "% of a core" or "count".
	Unit string            `json:"unit"`
	By   map[string]*Stats `json:"by"`
	// RatioP50 is minikubelet's p50 over the floor's, and PodmanRatioP50
	// podman's, when both were measured.
	RatioP50       float64 `json:"ratioP50,omitempty"`
	PodmanRatioP50 float64 `json:"podmanRatioP50,omitempty"`
	// Target is the project's aim for this figure, as issue 6 states it.
	Target string `json:"target,omitempty"`
}

// note adds a remark on what the scenario saw.
func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// add appends a figure.
func (r *Result) add(f *Figure) { r.Figures = append(r.Figures, f) }

// Result is what one scenario measured, with notes on what it saw.
type Result struct {
	Scenario string    `json:"scenario"`
	Title    string    `json:"title"`
	Figures  []*Figure `json:"figures"`
	Notes    []string  `json:"notes,omitempty"`
	Error    string    `json:"error,omitempty"`
	Seconds  float64   `json:"seconds"`
	// Date and Commit say when and on what this scenario last ran: a
	// single-scenario run replaces only its own entry in results.json.
	Date   string `json:"date"`
	Commit string `json:"commit"`
}

// samples collects the values of one figure for one implementation.
type samples struct {
	values []float64
	na     string
}

func (s *samples) add(v float64)               { s.values = append(s.values, v) }
func (s *samples) addDuration(d time.Duration) { s.add(d.Seconds()) }

// fail records why a value could not be taken; the first reason wins.
func (s *samples) fail(reason string) {
	if s.na == "" {
		s.na = reason
	}
}

// stats summarises the samples. Percentiles are nearest-rank: with 30
// samples, p99 is the maximum.
func (s *samples) stats() *Stats {
	if len(s.values) == 0 {
		na := s.na
		if na == "" {
			na = "not measured"
		}
		return &Stats{NA: na}
	}
	sorted := slices.Clone(s.values)
	slices.Sort(sorted)
	st := &Stats{
		N:       len(sorted),
		Min:     sorted[0],
		P50:     percentile(sorted, 50),
		P99:     percentile(sorted, 99),
		Max:     sorted[len(sorted)-1],
		Samples: s.values,
	}
	if s.na != "" {
		st.NA = "partial: " + s.na
	}
	return st
}

func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank-1, 0)]
}

// figure builds a Figure from the samples of each implementation that has
// some (nil entries are left out) and computes the ratios to the floor.
func figure(name, unit, target string, by map[string]*samples) *Figure {
	f := &Figure{Name: name, Unit: unit, Target: target, By: map[string]*Stats{}}
	for impl, s := range by {
		if s != nil {
			f.By[impl] = s.stats()
		}
	}
	floor := f.By[implFloor]
	if floor != nil && floor.N > 0 && floor.P50 > 0 {
		if m := f.By[implMinikubelet]; m != nil && m.N > 0 {
			f.RatioP50 = m.P50 / floor.P50
		}
		if p := f.By[implPodman]; p != nil && p.N > 0 {
			f.PodmanRatioP50 = p.P50 / floor.P50
		}
	}
	return f
}

// single is a figure measured once (a footprint window).
func single(v float64) *samples { return &samples{values: []float64{v}} }

// missing is a figure that could not be measured, with the reason.
func missing(reason string) *samples { return &samples{na: reason} }
