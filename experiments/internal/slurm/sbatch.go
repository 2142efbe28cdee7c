// Package slurm hands the harness's plan to Slurm: one sbatch job per
// distinct run key that is not cached, chained with afterok dependencies,
// each running the worker (`experiments -run KEY`) of a binary built once
// and kept in the cache. It only translates the plan into sbatch commands:
// ordering, retries and placement are Slurm's.
package slurm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Job is one distinct run to submit.
type Job struct {
	Key       string
	Label     string // experiment/run of its first target, for messages
	Exclusive bool   // a timing kind: the job takes whole nodes
	Threads   int    // nnlib threads (and --cpus-per-task) of a shared kind
	// Time is the job's --time; 0 leaves the partition's default.
	Time time.Duration
}

// Config is what every job of a submission shares.
type Config struct {
	Binary   string   // the worker binary, in the cache
	CacheDir string   // absolute; the jobs' working folder
	Profile  string   // passed to the worker
	Spec     string   // "" (the embedded specs) or the spec file copied into the cache
	Extra    []string // -sbatch-args, after the harness's own (so they can override them)
}

// JobName is the Slurm job name of key in the cache folder cacheDir:
// "cnet-" + 16 hex digits of the key + "-" + 6 of the cache folder's hash.
// A job of the same key queued for another cache is a different job.
func JobName(key, cacheDir string) string {
	h := sha256.Sum256([]byte(filepath.Clean(cacheDir)))
	k := key
	if len(k) > 16 {
		k = k[:16]
	}
	return "cnet-" + k + "-" + hex.EncodeToString(h[:3])
}

// LogPattern is the --output of a job: <cache>/slurm/logs/<job name>-%j.out,
// where Slurm writes the job id for %j.
func LogPattern(cacheDir, name string) string {
	return filepath.Join(cacheDir, "slurm", "logs", name+"-%j.out")
}

// LogPath is the log of job id named name.
func LogPath(cacheDir, name, id string) string {
	return strings.ReplaceAll(LogPattern(cacheDir, name), "%j", id)
}

// WorkerArgs is the worker's command line for j.
func (c Config) WorkerArgs(j Job) []string {
	threads := j.Threads
	if j.Exclusive {
		threads = 0 // all the cores of the node
	}
	args := []string{c.Binary, "-run", j.Key, "-profile", c.Profile, "-cache", c.CacheDir, "-jobs", "1", "-threads", strconv.Itoa(threads)}
	if c.Spec != "" {
		args = append(args, "-spec", c.Spec)
	}
	return args
}

// Args returns sbatch's arguments for j, whose needs that are not cached
// are the jobs deps (ids, or shell variables in a dry run).
func (c Config) Args(j Job, deps []string) []string {
	name := JobName(j.Key, c.CacheDir)
	args := []string{
		"--parsable",
		"--job-name=" + name,
		"--output=" + LogPattern(c.CacheDir, name),
		"--chdir=" + c.CacheDir,
		// Without it the dependants of a failed job stay pending forever.
		"--kill-on-invalid-dep=yes",
	}
	if len(deps) > 0 {
		args = append(args, "--dependency=afterok:"+strings.Join(deps, ":"))
	}
	if j.Exclusive {
		args = append(args, "--exclusive")
	} else {
		args = append(args, "--cpus-per-task="+strconv.Itoa(max(1, j.Threads)))
	}
	if j.Time > 0 {
		args = append(args, "--time="+FormatTime(j.Time))
	}
	args = append(args, c.Extra...)
	// exec: the worker is the batch step's process, so scancel's SIGTERM
	// reaches it and it keeps its checkpoint.
	return append(args, "--wrap=exec "+QuoteCommand(c.WorkerArgs(j)))
}

// TimeLimit is the --time of a run estimated to take est: twice the
// estimate plus ten minutes (the estimate comes from another machine's
// measurements), in whole minutes; 0 when there is no estimate.
func TimeLimit(est time.Duration) time.Duration {
	if est <= 0 {
		return 0
	}
	return (2*est + 10*time.Minute + time.Minute - 1).Truncate(time.Minute)
}

// FormatTime writes d as Slurm's [days-]hours:minutes:seconds.
func FormatTime(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	days, s := s/86400, s%86400
	hms := fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	if days > 0 {
		return fmt.Sprintf("%d-%s", days, hms)
	}
	return hms
}

// ParseJobID reads the job id that `sbatch --parsable` prints ("123" or
// "123;cluster").
func ParseJobID(out string) (string, error) {
	line := strings.TrimSpace(out)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:]) // warnings come first
	}
	id, _, _ := strings.Cut(line, ";")
	if id == "" || strings.Trim(id, "0123456789_") != "" {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}

// activeStates are the squeue states of a job that may still run; squeue
// also lists finished jobs for a while (MinJobAge), which do not count.
var activeStates = map[string]bool{
	"PENDING": true, "CONFIGURING": true, "RUNNING": true, "SUSPENDED": true,
	"REQUEUED": true, "REQUEUE_HOLD": true, "REQUEUE_FED": true, "RESIZING": true,
}

// SqueueFormat is the -o format ParseSqueue reads.
const SqueueFormat = "%i|%j|%T"

// ParseSqueue reads `squeue -h -o '%i|%j|%T'` and returns job name → id of
// the jobs that may still run (the newest when a name repeats). Names that
// are not the harness's are kept too; callers look theirs up.
func ParseSqueue(out string) (map[string]string, error) {
	jobs := map[string]string{}
	for n, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("squeue line %d %q: want id|name|state", n+1, line)
		}
		id, name, state := parts[0], parts[1], parts[2]
		if !activeStates[state] {
			continue
		}
		if prev, ok := jobs[name]; !ok || newer(id, prev) {
			jobs[name] = id
		}
	}
	return jobs, nil
}

// newer reports whether job id a was submitted after b (numeric order; array
// and het-job suffixes compare as text).
func newer(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a > b
	}
	return x > y
}

// SplitArgs splits -sbatch-args like a shell: words separated by blanks,
// with '…' and "…" quoting (no expansions).
func SplitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("-sbatch-args: unterminated " + string(quote) + " quote; close it, e.g. -sbatch-args \"--partition=cpu --comment='a b'\"")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// Quote quotes s for a POSIX shell when it holds anything but letters,
// digits and -_./:=,+%@.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+%@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteCommand joins args into one shell command line.
func QuoteCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
