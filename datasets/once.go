package datasets

import "sync"

// onceSplit is one dataset of one data directory, loaded at most once.
type onceSplit struct {
	once  sync.Once
	split *Split
	err   error
}

var (
	onceMu sync.Mutex
	splits = map[string]*onceSplit{} // dir NUL name → its load
)

// LoadOnce is Load, done once per process for each data directory and
// dataset: every caller gets the same *Split (share it read-only) or the
// same error. The experiment kinds and the tests that read real data use
// it so that a process verifies and decodes a dataset once, however many
// runs or tests read it.
func LoadOnce(dir, name string) (*Split, error) {
	onceMu.Lock()
	l := splits[dir+"\x00"+name]
	if l == nil {
		l = &onceSplit{}
		splits[dir+"\x00"+name] = l
	}
	onceMu.Unlock()
	l.once.Do(func() { l.split, _, l.err = Load(dir, name) })
	return l.split, l.err
}
