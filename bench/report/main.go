// Command report turns the output of the module's benchmarks
// (integration/benchmarks) into the Markdown tables of the performance
// documentation, with every performance target marked met or not met, and
// draws bench/origins.svg: time per request against the number of
// configured origins, for this module and for github.com/rs/cors.
//
// Usage, from the repository root (bench/run.sh does both):
//
//	(cd integration && go test -run '^$' -bench . -benchmem -count 6 ./benchmarks) | tee bench.txt
//	go run ./bench/report [-svg bench/origins.svg] [bench.txt] > report.md
//
// Every iteration of every benchmark is a whole request as Caddy's server
// runs it: it makes the request's replacer (caddy.NewReplacer, then the
// {http.*} provider mapped into it) and serves it with the next handler.
// The targets against rs/cors are judged on those whole figures. next_only,
// the next handler alone, is the floor: a scenario whose next handler does
// more (adds headers) has a next_only of its own. A benchmark's figure less
// its floor's is its "own" figure, what the CORS handler itself costs,
// shown beside the whole one; allocation targets and the targets between
// scenarios of the cors handler are judged on own figures.
//
// It reads stdin when no file is given. With several runs of a benchmark
// (-count, or several rounds of the whole set as bench/run.sh does), each
// figure is the median of the runs, which one slow run on a busy machine
// does not move.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The benchmark the report reads: BenchmarkServeHTTP/<scenario>/<impl>,
// plus BenchmarkServeHTTP/next_only, the next handler alone, and
// BenchmarkServeHTTP/<scenario>/next_only where the scenario's next handler
// is not the plain one.
const (
	benchPrefix = "BenchmarkServeHTTP/"
	implCORS    = "cors"
	implRS      = "rs_cors"
	nextOnly    = "next_only"
)

// Scenarios in the order of the table; the ones the input lacks are
// skipped, others it has are appended in the order they appear.
var scenarioOrder = []string{
	"no_origin",
	"actual_1_origin",
	"actual_100_origins",
	"actual_10000_origins",
	"actual_disallowed_origin",
	"actual_subdomain_pattern",
	"actual_origin_regexp",
	"actual_vary_encode",
	"actual_upstream_cors_headers",
	"preflight_allowed",
	"preflight_credentials_max_age",
	"preflight_disallowed_origin",
	"preflight_disallowed_header",
	"preflight_hostile_1MiB_list",
	"preflight_hostile_10000_names",
	"preflight_hostile_10000_empty",
}

// The targets.
const (
	// Every request the cors handler does not refuse, whole (the making
	// of its replacer and the next handler included), takes at most this
	// many times rs/cors's time.
	maxRatioToRS = 1.25
	// ... with at most this many allocations beyond its next_only's.
	maxAllocsBeyondNext = 1
	// 10,000 configured origins cost at most this much more than one (own
	// figures).
	maxOriginsGrowth = 1.1
	// A refused actual request takes at most this many times rs/cors's
	// time (own figures), with at most this many allocations beyond
	// next_only's.
	maxRefusedRatioToRS = 1.5
	maxRefusedAllocs    = 2
	// A refused or hostile preflight costs at most this many allowed
	// preflights (own figures), once the sampler of the refusal log lines
	// has kicked in.
	maxRefusedCost = 2.0
)

// comparedToRS are the scenarios the cors handler does not refuse, held to
// maxRatioToRS and maxAllocsBeyondNext.
var comparedToRS = []string{
	"no_origin",
	"actual_1_origin",
	"actual_100_origins",
	"actual_10000_origins",
	"actual_subdomain_pattern",
	"actual_origin_regexp",
	"actual_vary_encode",
	"actual_upstream_cors_headers",
	"preflight_allowed",
	"preflight_credentials_max_age",
}

// varyMerge is the scenario whose next handler names Accept-Encoding in
// Vary, as Caddy's encode does, and varyBase the same request with a next
// handler that does not: merging Origin into a Vary that is already there
// costs the cors handler no allocation.
const varyMerge, varyBase = "actual_vary_encode", "actual_1_origin"

// rsLeavesUpstream says which scenarios rs/cors answers wrongly: it does
// not own the response's headers, so an upstream's own CORS headers reach
// the browser beside its own.
var rsLeavesUpstream = map[string]string{
	"actual_upstream_cors_headers": "rs/cors answers it with two Access-Control-Allow-Origin lines, its own and the upstream's `*`, which a browser rejects; the cors handler with one",
}

// refusedActual are the actual requests the cors handler refuses, held to
// maxRefusedRatioToRS and maxRefusedAllocs.
var refusedActual = []string{"actual_disallowed_origin"}

// refusedPreflights are the scenarios held to maxRefusedCost.
var refusedPreflights = []string{
	"preflight_disallowed_origin",
	"preflight_disallowed_header",
	"preflight_hostile_1MiB_list",
	"preflight_hostile_10000_names",
	"preflight_hostile_10000_empty",
}

// originCounts are the scenarios of the chart, by number of origins.
var originCounts = []struct {
	n        int
	scenario string
}{
	{1, "actual_1_origin"},
	{100, "actual_100_origins"},
	{10_000, "actual_10000_origins"},
}

// runs are the figures of every run of one benchmark.
type runs struct {
	nsPerOp, bytesPerOp, allocsPerOp []float64
}

// result is the median of the runs of one benchmark.
type result struct {
	nsPerOp, bytesPerOp, allocsPerOp float64
	count                            int
	spread                           float64 // (max-min)/median of ns/op
}

func (rs *runs) result() result {
	r := result{
		nsPerOp:     median(rs.nsPerOp),
		bytesPerOp:  median(rs.bytesPerOp),
		allocsPerOp: median(rs.allocsPerOp),
		count:       len(rs.nsPerOp),
	}
	if r.nsPerOp > 0 {
		r.spread = (slices.Max(rs.nsPerOp) - slices.Min(rs.nsPerOp)) / r.nsPerOp
	}
	return r
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// input is what the benchmark output says.
type input struct {
	results   map[string]result // by "scenario/impl", or nextOnly
	runs      map[string]*runs  // the same, every run
	scenarios []string          // in order of appearance
	machine   []string          // goos, goarch, cpu lines
}

// A benchmark line: name-GOMAXPROCS, iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (*input, error) {
	all := map[string]*runs{}
	in := &input{results: map[string]result{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, key := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(line, key) && !slices.Contains(in.machine, line) {
				in.machine = append(in.machine, line)
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil || !strings.HasPrefix(m[1], benchPrefix) {
			continue
		}
		name := strings.TrimPrefix(m[1], benchPrefix)
		if scenario, _, ok := strings.Cut(name, "/"); ok && !seen[scenario] {
			seen[scenario] = true
			in.scenarios = append(in.scenarios, scenario)
		}
		rs := all[name]
		if rs == nil {
			rs = &runs{}
			all[name] = rs
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			switch fields[i+1] {
			case "ns/op":
				rs.nsPerOp = append(rs.nsPerOp, v)
			case "B/op":
				rs.bytesPerOp = append(rs.bytesPerOp, v)
			case "allocs/op":
				rs.allocsPerOp = append(rs.allocsPerOp, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for name, rs := range all {
		in.results[name] = rs.result()
	}
	in.runs = all
	if len(in.results) == 0 {
		return nil, fmt.Errorf("no %s benchmark in the input: run go test -run '^$' -bench . -benchmem ./benchmarks in integration", strings.TrimSuffix(benchPrefix, "/"))
	}
	// The table follows scenarioOrder, then whatever else the input has.
	ordered := slices.DeleteFunc(slices.Clone(scenarioOrder), func(s string) bool { return !seen[s] })
	for _, s := range in.scenarios {
		if !slices.Contains(ordered, s) {
			ordered = append(ordered, s)
		}
	}
	in.scenarios = ordered
	return in, nil
}

// roundRatios are cors's whole figure over rs/cors's, round by round: the
// k-th run of each benchmark is the k-th round's, so a drift of the machine
// between rounds falls on both sides of a ratio alike. It gives their
// median, least and greatest.
func (in *input) roundRatios(scenario string) (mid, least, most float64, ok bool) {
	c, r := in.runs[scenario+"/"+implCORS], in.runs[scenario+"/"+implRS]
	if c == nil || r == nil || len(c.nsPerOp) != len(r.nsPerOp) || len(c.nsPerOp) == 0 {
		return 0, 0, 0, false
	}
	ratios := make([]float64, len(c.nsPerOp))
	for k := range ratios {
		ratios[k] = c.nsPerOp[k] / r.nsPerOp[k]
	}
	return median(ratios), slices.Min(ratios), slices.Max(ratios), true
}

func (in *input) get(scenario, impl string) (result, bool) {
	r, ok := in.results[scenario+"/"+impl]
	return r, ok
}

// floor is the next handler alone for a scenario: its own next_only, or
// the plain one.
func (in *input) floor(scenario string) (result, bool) {
	if r, ok := in.get(scenario, nextOnly); ok {
		return r, true
	}
	r, ok := in.results[nextOnly]
	return r, ok
}

// own is what a benchmark costs beyond its next_only: the CORS handler's
// own time and allocations.
func (in *input) own(scenario, impl string) (result, bool) {
	r, ok := in.get(scenario, impl)
	if next, found := in.floor(scenario); ok && found {
		r.nsPerOp -= next.nsPerOp
		r.bytesPerOp -= next.bytesPerOp
		r.allocsPerOp -= next.allocsPerOp
	}
	return r, ok
}

// ratio is a / b, or false when b is not above zero: an own figure of a
// few tens of nanoseconds, the difference of two figures of hundreds, can
// come out at or below zero on a busy machine, and no ratio to it means
// anything then.
func ratio(a, b float64) (float64, bool) {
	if b <= 0 || math.IsNaN(b) {
		return math.NaN(), false
	}
	return a / b, true
}

// noRatio is what a check measured when ratio had nothing to divide by.
const noRatio = "– (an own figure at or below zero: measure on a quieter machine)"

// ratioCheck judges a ratio of own figures against its maximum.
func ratioCheck(target string, a, b, limit float64) check {
	r, ok := ratio(a, b)
	if !ok {
		return check{target, noRatio, false}
	}
	return check{target, fmt.Sprintf("%.2f×", r), r <= limit}
}

// check is one target and whether it is met.
type check struct {
	target, measured string
	met              bool
}

func (in *input) checks() []check {
	var checks []check
	for _, s := range comparedToRS {
		c, okC := in.get(s, implCORS)
		r, okR := in.get(s, implRS)
		if mid, least, most, ok := in.roundRatios(s); ok && okC && okR {
			target := fmt.Sprintf("`%s`: cors at most %.2f× rs_cors, whole request", s, maxRatioToRS)
			if _, wrong := rsLeavesUpstream[s]; wrong {
				target += " (rs/cors leaves the upstream's CORS headers†)"
			}
			checks = append(checks, check{
				target,
				fmt.Sprintf("%.2f× (rounds %.2f to %.2f; medians %s ns against %s ns)", mid, least, most, formatNs(c.nsPerOp), formatNs(r.nsPerOp)),
				mid <= maxRatioToRS,
			})
		}
		if oc, ok := in.own(s, implCORS); ok {
			checks = append(checks, check{
				fmt.Sprintf("`%s`: at most %d allocation beyond next_only's", s, maxAllocsBeyondNext),
				fmt.Sprintf("%.0f", oc.allocsPerOp), oc.allocsPerOp <= maxAllocsBeyondNext,
			})
		}
	}
	// Own allocations, each beyond its scenario's next_only: the next
	// handler of varyMerge allocates the Vary it adds itself.
	if merge, ok := in.own(varyMerge, implCORS); ok {
		if base, ok := in.own(varyBase, implCORS); ok {
			extra := merge.allocsPerOp - base.allocsPerOp
			measured := fmt.Sprintf("%.0f (%.0f against %.0f)", extra, merge.allocsPerOp, base.allocsPerOp)
			if rm, ok := in.own(varyMerge, implRS); ok {
				if rb, ok := in.own(varyBase, implRS); ok {
					measured += fmt.Sprintf("; rs_cors %.0f", rm.allocsPerOp-rb.allocsPerOp)
				}
			}
			checks = append(checks, check{
				fmt.Sprintf("`%s`: no allocation more than `%s`, each beyond its next_only (Origin merged into encode's Vary)", varyMerge, varyBase),
				measured, extra <= 0,
			})
		}
	}
	if one, ok := in.own("actual_1_origin", implCORS); ok {
		if many, ok := in.own("actual_10000_origins", implCORS); ok {
			checks = append(checks, ratioCheck(
				fmt.Sprintf("10,000 origins at most %.1f× 1 origin, own", maxOriginsGrowth),
				many.nsPerOp, one.nsPerOp, maxOriginsGrowth))
		}
	}
	for _, s := range refusedActual {
		oc, okC := in.own(s, implCORS)
		or, okR := in.own(s, implRS)
		if okC && okR {
			checks = append(checks, ratioCheck(
				fmt.Sprintf("`%s`: cors at most %.1f× rs_cors, own", s, maxRefusedRatioToRS),
				oc.nsPerOp, or.nsPerOp, maxRefusedRatioToRS))
		}
		if okC {
			checks = append(checks, check{
				fmt.Sprintf("`%s`: at most %d allocations beyond next_only's", s, maxRefusedAllocs),
				fmt.Sprintf("%.0f", oc.allocsPerOp), oc.allocsPerOp <= maxRefusedAllocs,
			})
		}
	}
	if allowed, ok := in.own("preflight_allowed", implCORS); ok {
		for _, s := range refusedPreflights {
			if refused, ok := in.own(s, implCORS); ok {
				checks = append(checks, ratioCheck(
					fmt.Sprintf("`%s` at most %.0f× `preflight_allowed`, own", s, maxRefusedCost),
					refused.nsPerOp, allowed.nsPerOp, maxRefusedCost))
			}
		}
	}
	return checks
}

func writeMarkdown(w io.Writer, in *input) {
	if len(in.machine) > 0 {
		fmt.Fprintf(w, "Measured on: %s. Each figure is the median of the runs (n).\n\n", strings.Join(in.machine, ", "))
	}
	var floors []string
	if next, ok := in.results[nextOnly]; ok {
		floors = append(floors, fmt.Sprintf("%s ns/op, %.0f B/op, %.0f allocs/op (`next_only`)",
			formatNs(next.nsPerOp), next.bytesPerOp, next.allocsPerOp))
	}
	for _, s := range in.scenarios {
		if next, ok := in.get(s, nextOnly); ok {
			floors = append(floors, fmt.Sprintf("%s ns/op, %.0f B/op, %.0f allocs/op (`%s`'s)",
				formatNs(next.nsPerOp), next.bytesPerOp, next.allocsPerOp, s))
		}
	}
	if len(floors) > 0 {
		fmt.Fprintf(w, "The next handler alone, its replacer made as Caddy's server makes one: %s.\n\n", strings.Join(floors, "; "))
	}
	fmt.Fprintln(w, "Whole: the request as Caddy runs it, the making of its replacer and the next handler included; the targets against rs/cors are judged on the median of the rounds' ratios of whole figures.")
	fmt.Fprintln(w, "Own: beyond the scenario's next_only, what the CORS handler itself costs.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | cors ns/op | rs_cors ns/op | **cors / rs_cors, whole, median of the rounds' ratios (target)** | cors own ns/op | rs_cors own ns/op | own cors / rs_cors | cors own B/op | cors own allocs/op | rs_cors own allocs/op | n | cors spread |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	var notes []string
	for _, s := range in.scenarios {
		c, okC := in.get(s, implCORS)
		oc, _ := in.own(s, implCORS)
		r, okR := in.get(s, implRS)
		or, _ := in.own(s, implRS)
		cells := []string{"`" + s + "`", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–"}
		if okC {
			cells[1] = formatNs(c.nsPerOp)
			cells[4] = formatNs(oc.nsPerOp)
			cells[7] = fmt.Sprintf("%.0f", oc.bytesPerOp)
			cells[8] = fmt.Sprintf("%.0f", oc.allocsPerOp)
			cells[10] = strconv.Itoa(c.count)
			cells[11] = fmt.Sprintf("%.0f%%", 100*c.spread)
		}
		if okR {
			cells[2] = formatNs(r.nsPerOp)
			cells[5] = formatNs(or.nsPerOp)
			cells[9] = fmt.Sprintf("%.0f", or.allocsPerOp)
			if note, wrong := rsLeavesUpstream[s]; wrong {
				cells[2] += " †"
				notes = append(notes, "† `"+s+"`: "+note+".")
			}
		}
		if mid, _, _, ok := in.roundRatios(s); ok {
			cells[3] = fmt.Sprintf("%.2f", mid)
		}
		if okC && okR {
			if r, ok := ratio(oc.nsPerOp, or.nsPerOp); ok {
				cells[6] = fmt.Sprintf("%.2f", r)
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, note := range notes {
		fmt.Fprintf(w, "\n%s\n", note)
	}

	checks := in.checks()
	met := 0
	for _, c := range checks {
		if c.met {
			met++
		}
	}
	fmt.Fprintf(w, "\nTargets: %d of %d met.\n\n", met, len(checks))
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|--:|---|")
	for _, c := range checks {
		verdict := "not met"
		if c.met {
			verdict = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.target, c.measured, verdict)
	}
}

func formatNs(ns float64) string {
	if ns >= 100 {
		return strconv.FormatFloat(ns, 'f', 0, 64)
	}
	return strconv.FormatFloat(ns, 'f', 1, 64)
}

// The chart's geometry, in SVG user units.
const (
	chartWidth, chartHeight          = 680, 400
	marginLeft, marginRight          = 70, 160
	marginTop, marginBottom          = 40, 60
	plotWidth                        = chartWidth - marginLeft - marginRight
	plotHeight                       = chartHeight - marginTop - marginBottom
	colorCORS, colorRS               = "#1f77b4", "#d62728"
	fontFamily                       = "system-ui, -apple-system, Segoe UI, sans-serif"
	decadesOnXAxis                   = 4 // 1 to 10,000
	labelOffsetX, labelOffsetY       = 8, 4
	legendSwatchWidth, legendSpacing = 18, 22
)

// writeSVG draws ns/op against the number of configured origins, on a log
// x axis, for both implementations.
func writeSVG(w io.Writer, in *input) error {
	type series struct {
		impl, label, color string
		points             [][2]float64 // origins, ns/op
	}
	all := []*series{
		{impl: implCORS, label: "cors (this module)", color: colorCORS},
		{impl: implRS, label: "rs/cors", color: colorRS},
	}
	maxNs := 0.0
	for _, s := range all {
		for _, oc := range originCounts {
			if r, ok := in.own(oc.scenario, s.impl); ok {
				// An own figure that noise took below zero is drawn
				// on the axis, not under it.
				s.points = append(s.points, [2]float64{float64(oc.n), math.Max(0, r.nsPerOp)})
				maxNs = math.Max(maxNs, r.nsPerOp)
			}
		}
	}
	if maxNs == 0 {
		return fmt.Errorf("no actual_<n>_origins benchmark in the input: nothing to draw")
	}
	step := niceStep(maxNs / 5)
	top := math.Ceil(maxNs/step) * step
	x := func(n float64) float64 { return marginLeft + plotWidth*math.Log10(n)/decadesOnXAxis }
	y := func(ns float64) float64 { return marginTop + plotHeight*(1-ns/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="13">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight, fontFamily)
	fmt.Fprintf(&b, `<title>Time per allowed CORS request against the number of configured origins</title>`+"\n")
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15" font-weight="bold">Allowed CORS GET: ns/op by number of configured origins</text>`+"\n", marginLeft, marginTop-18)

	// Horizontal grid lines with their ns/op labels.
	for v := 0.0; v <= top+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", marginLeft, y(v), marginLeft+plotWidth, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-labelOffsetX, y(v)+labelOffsetY, strconv.FormatFloat(v, 'f', -1, 64))
	}
	// One tick per decade of origins.
	for d := 0; d <= decadesOnXAxis; d++ {
		n := math.Pow(10, float64(d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", x(n), marginTop+plotHeight, x(n), marginTop+plotHeight+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(n), marginTop+plotHeight+20, groupThousands(int(n)))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", marginLeft, marginTop+plotHeight, marginLeft+plotWidth, marginTop+plotHeight)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", marginLeft, marginTop, marginLeft, marginTop+plotHeight)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">configured origins (log scale)</text>`+"\n", marginLeft+plotWidth/2, chartHeight-15)
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle">own ns/op (median)</text>`+"\n", marginTop+plotHeight/2)

	for i, s := range all {
		if len(s.points) == 0 {
			continue
		}
		var path []string
		for _, p := range s.points {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x(p[0]), y(p[1])))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n", strings.Join(path, " "), s.color)
		for _, p := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s origin(s), %s ns/op</title></circle>`+"\n",
				x(p[0]), y(p[1]), s.color, s.label, groupThousands(int(p[0])), formatNs(p[1]))
		}
		legendY := marginTop + 10 + i*legendSpacing
		legendX := marginLeft + plotWidth + 15
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`+"\n", legendX, legendY, legendX+legendSwatchWidth, legendY, s.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", legendX+legendSwatchWidth+6, legendY+labelOffsetY, s.label)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep rounds a raw grid step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*pow {
			return m * pow
		}
	}
	return 10 * pow
}

func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func main() {
	svgPath := flag.String("svg", "bench/origins.svg", "where to write the chart; empty for none")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go run ./bench/report [-svg file] [go-test-bench-output]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*svgPath, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(svgPath string, args []string) error {
	var r io.Reader = os.Stdin
	switch len(args) {
	case 0:
	case 1:
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	default:
		return fmt.Errorf("give at most one input file, got %d", len(args))
	}
	in, err := parse(r)
	if err != nil {
		return err
	}
	writeMarkdown(os.Stdout, in)
	if svgPath == "" {
		return nil
	}
	f, err := os.Create(svgPath)
	if err != nil {
		return err
	}
	if err := writeSVG(f, in); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
