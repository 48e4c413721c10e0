//go:build race

package integration

// raceEnabled reports whether this test binary runs under the race detector.
const raceEnabled = true
