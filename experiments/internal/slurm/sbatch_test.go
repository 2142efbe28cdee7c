package slurm

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	cfg := Config{Binary: "/c/bin/x/experiments", CacheDir: "/c", Profile: "paper"}
	key := strings.Repeat("ab", 32)
	name := JobName(key, "/c")
	common := []string{"--parsable", "--job-name=" + name, "--output=/c/slurm/logs/" + name + "-%j.out", "--chdir=/c", "--kill-on-invalid-dep=yes"}
	worker := "--wrap=exec /c/bin/x/experiments -run " + key + " -profile paper -cache /c -jobs 1 -threads "
	tests := []struct {
		name string
		cfg  Config
		job  Job
		deps []string
		want []string
	}{
		{"shared", cfg, Job{Key: key, Threads: 2}, nil,
			append(common[:5:5], "--cpus-per-task=2", worker+"2")},
		{"exclusive, two needs, a time", cfg, Job{Key: key, Exclusive: true, Threads: 2, Time: 90 * time.Minute}, []string{"7", "9"},
			append(common[:5:5], "--dependency=afterok:7:9", "--exclusive", "--time=01:30:00", worker+"0")},
		{"extra args after the harness's, a spec", Config{Binary: cfg.Binary, CacheDir: "/c", Profile: "paper", Spec: "/c/specs/1/my spec.yaml", Extra: []string{"--partition=cpu", "--time=2:00:00"}},
			Job{Key: key}, []string{"3"},
			append(common[:5:5], "--dependency=afterok:3", "--cpus-per-task=1", "--partition=cpu", "--time=2:00:00", worker+"0 -spec '/c/specs/1/my spec.yaml'")},
	}
	for _, tt := range tests {
		if got := tt.cfg.Args(tt.job, tt.deps); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestJobName(t *testing.T) {
	k1, k2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	a := JobName(k1, "/shared/cache")
	if a != JobName(k1, "/shared/cache/") || !strings.HasPrefix(a, "cnet-1111111111111111-") || len(a) != len("cnet-")+16+1+6 {
		t.Errorf("JobName %q: want cnet-<16 of key>-<6 of cache>, the same for equal folders", a)
	}
	if a == JobName(k2, "/shared/cache") || a == JobName(k1, "/other/cache") {
		t.Error("JobName does not tell keys or caches apart")
	}
}

func TestTimes(t *testing.T) {
	tests := []struct {
		est  time.Duration
		want string
	}{
		{0, ""},
		{time.Second, "00:11:00"}, // 2 s + 10 min, up to the minute
		{45 * time.Minute, "01:40:00"},
		{30 * time.Hour, "2-12:10:00"},
	}
	for _, tt := range tests {
		got := ""
		if d := TimeLimit(tt.est); d > 0 {
			got = FormatTime(d)
		}
		if got != tt.want {
			t.Errorf("TimeLimit(%s) = %q, want %q", tt.est, got, tt.want)
		}
	}
}

func TestParseJobID(t *testing.T) {
	tests := []struct{ out, id, err string }{
		{"123\n", "123", ""},
		{"4567;cluster\n", "4567", ""},
		{"sbatch: warning: something\n89\n", "89", ""},
		{"", "", "not a job id"},
		{"Submitted batch job 12\n", "", "not a job id"},
	}
	for _, tt := range tests {
		id, err := ParseJobID(tt.out)
		if id != tt.id || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseJobID(%q) = %q, %v; want %q, %q", tt.out, id, err, tt.id, tt.err)
		}
	}
}

func TestParseSqueue(t *testing.T) {
	tests := []struct {
		out  string
		want map[string]string
		err  string
	}{
		{"", map[string]string{}, ""},
		{"12|cnet-a|PENDING\n13|cnet-b|RUNNING\n14|cnet-c|COMPLETED\n15|cnet-d|CANCELLED\n16|cnet-e|FAILED\n",
			map[string]string{"cnet-a": "12", "cnet-b": "13"}, ""},
		{"9|cnet-a|PENDING\n10|cnet-a|RUNNING\n", map[string]string{"cnet-a": "10"}, ""},
		{"100|x|SUSPENDED\n  \n", map[string]string{"x": "100"}, ""},
		{"12 cnet-a PENDING\n", nil, "line 1"},
	}
	for _, tt := range tests {
		got, err := ParseSqueue(tt.out)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSqueue(%q): err %v, want %q", tt.out, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSqueue(%q) = %v, %v; want %v", tt.out, got, err, tt.want)
		}
	}
}

func TestSplitArgsAndQuote(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  --partition=cpu   --account=me ", []string{"--partition=cpu", "--account=me"}, false},
		{`--comment='a b' --mail-user="x y"`, []string{"--comment=a b", "--mail-user=x y"}, false},
		{`--x=''`, []string{"--x="}, false},
		{`--comment='a b`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
	for in, want := range map[string]string{"/a/b-c_1.x": "/a/b-c_1.x", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "$HOME": "'$HOME'"} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
