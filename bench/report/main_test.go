package main

import (
	"strings"
	"testing"
)

// sample is benchmark output as bench/run.sh collects it: two rounds of a
// few scenarios, one of them with a next_only of its own.
const sample = `goos: linux
goarch: amd64
cpu: AMD EPYC
BenchmarkServeHTTP/next_only-2                                 	1000	 300 ns/op	 312 B/op	 7 allocs/op
BenchmarkServeHTTP/actual_1_origin/cors-2                      	1000	 480 ns/op	 344 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_1_origin/rs_cors-2                   	1000	 400 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_vary_encode/cors-2                   	1000	 520 ns/op	 376 B/op	10 allocs/op
BenchmarkServeHTTP/actual_vary_encode/rs_cors-2                	1000	 400 ns/op	 360 B/op	 9 allocs/op
BenchmarkServeHTTP/actual_vary_encode/next_only-2              	1000	 320 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_disallowed_origin/cors-2             	1000	 450 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_disallowed_origin/rs_cors-2          	1000	 290 ns/op	 344 B/op	 9 allocs/op
BenchmarkServeHTTP/next_only-2                                 	1000	 320 ns/op	 312 B/op	 7 allocs/op
BenchmarkServeHTTP/actual_1_origin/cors-2                      	1000	 520 ns/op	 344 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_1_origin/rs_cors-2                   	1000	 400 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_vary_encode/cors-2                   	1000	 520 ns/op	 376 B/op	10 allocs/op
BenchmarkServeHTTP/actual_vary_encode/rs_cors-2                	1000	 400 ns/op	 360 B/op	 9 allocs/op
BenchmarkServeHTTP/actual_vary_encode/next_only-2              	1000	 320 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_disallowed_origin/cors-2             	1000	 450 ns/op	 328 B/op	 8 allocs/op
BenchmarkServeHTTP/actual_disallowed_origin/rs_cors-2          	1000	 290 ns/op	 344 B/op	 9 allocs/op
`

func TestChecks(t *testing.T) {
	in, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]check{}
	for _, c := range in.checks() {
		got[c.target] = c
	}
	for _, want := range []check{
		// Whole requests, round by round: 480/400 and 520/400.
		{"`actual_1_origin`: cors at most 1.25× rs_cors, whole request", "1.25× (rounds 1.20 to 1.30; medians 500 ns against 400 ns)", true},
		{"`actual_vary_encode`: cors at most 1.25× rs_cors, whole request", "1.30× (rounds 1.30 to 1.30; medians 520 ns against 400 ns)", false},
		{"`actual_1_origin`: at most 1 allocation beyond next_only's", "1", true},
		// Beyond the scenario's own next_only (8), not the plain one (7).
		{"`actual_vary_encode`: at most 1 allocation beyond next_only's", "2", false},
		// Each beyond its own next_only: 10 - 8 against 8 - 7.
		{"`actual_vary_encode`: no allocation more than `actual_1_origin`, each beyond its next_only (Origin merged into encode's Vary)", "1 (2 against 1); rs_cors 0", false},
		// rs/cors's own time is 290 - 310 < 0: no ratio to judge by.
		{"`actual_disallowed_origin`: cors at most 1.5× rs_cors, own", noRatio, false},
		{"`actual_disallowed_origin`: at most 2 allocations beyond next_only's", "1", true},
	} {
		if c, ok := got[want.target]; !ok {
			t.Errorf("no check %q", want.target)
		} else if c != want {
			t.Errorf("check %q: measured %q, met %v; want %q, met %v", want.target, c.measured, c.met, want.measured, want.met)
		}
	}
	if own, _ := in.own("actual_vary_encode", implCORS); own.nsPerOp != 200 {
		t.Errorf("own ns/op of actual_vary_encode/cors: %v, want 200 (beyond its own next_only)", own.nsPerOp)
	}
}
