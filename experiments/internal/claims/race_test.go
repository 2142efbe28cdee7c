//go:build race

package claims

// raceEnabled is true under the race detector, which allocates on its own
// and makes sync.Pool drop items at random: allocation counts are then not
// the program's.
const raceEnabled = true
